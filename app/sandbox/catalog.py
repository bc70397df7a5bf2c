"""Generated catalogue of a team: apps, their in-app products, versions and builds.

Apps are a pure function of the team (cached). Builds live on an absolute timeline (30-day
blocks, each drawn from its own seeded RNG) so they stay put as the clock advances; only
builds uploaded in the last :data:`BUILD_HISTORY_DAYS` days and not in the future exist.
Besides the block's own builds, each release's candidate build (see :mod:`.releases`) lands in
the block of its upload; build numbers follow upload order within a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from app.sandbox.releases import release, release_index, releases_between, version_for_release
from app.sandbox.seeding import numeric_id, rng, stable_uuid
from app.sandbox.state import SandboxTeam
from app.sandbox.text import APP_ADJECTIVES, APP_NOUNS, CATEGORY_LIST, PRIMARY_LOCALES

BUILD_HISTORY_DAYS = 180
BUILD_BLOCK_DAYS = 30
PROCESSING_MINUTES = 15
BUILD_LIFETIME = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Product:
    """An in-app purchase or subscription as it appears in sales reports."""

    apple_id: str
    product_id: str  # the SKU column of IAP rows
    name: str
    type_code: str  # IA1, IA9, IAY
    usd_price: Decimal
    period: str = " "  # IAY only: "7 Days", "1 Month", "1 Year"
    restorable: bool = False  # non-consumables can be restored (IA3)


@dataclass(frozen=True, slots=True)
class SandboxApp:
    id: str
    index: int
    name: str
    bundle_id: str
    sku: str
    primary_locale: str
    category: str
    made_for_kids: bool
    uses_third_party_content: bool
    usd_price: Decimal  # 0 = free
    download_type: str  # "1" or "1F" (universal)
    popularity: float
    launch_date: date
    release_cadence_days: int
    products: tuple[Product, ...]

    @property
    def subscriptions(self) -> tuple[Product, ...]:
        return tuple(p for p in self.products if p.type_code == "IAY")


@lru_cache(maxsize=256)
def team_apps(team: SandboxTeam) -> tuple[SandboxApp, ...]:
    """All apps of ``team`` in creation order (ids are stable for the seed and issuer)."""
    combos = [(a, n) for a in APP_ADJECTIVES for n in APP_NOUNS]
    rng(team.seed, "app-names").shuffle(combos)
    used_ids: set[str] = set()
    apps = []
    for index in range(team.app_count):
        adjective, noun = combos[index % len(combos)]
        suffix = f" {index // len(combos) + 1}" if index >= len(combos) else ""
        app_id = numeric_id(10, 6, team.seed, "app-id", index)
        salt = 0
        while app_id in used_ids:
            salt += 1
            app_id = numeric_id(10, 6, team.seed, "app-id", index, salt)
        used_ids.add(app_id)
        apps.append(_make_app(team, index, app_id, f"{adjective} {noun}{suffix}", noun))
    return tuple(apps)


def _make_app(team: SandboxTeam, index: int, app_id: str, name: str, noun: str) -> SandboxApp:
    r = rng(team.seed, "app", index)
    slug = "".join(ch for ch in name.lower() if ch.isalnum())
    bundle_id = f"com.{team.slug}.{slug}"
    flagship = index == 0
    products: list[Product] = []

    def product(
        kind: str, suffix: str, title: str, usd: str, period: str = " ", restorable: bool = False
    ) -> None:
        products.append(
            Product(
                apple_id=numeric_id(10, 6, team.seed, "product", app_id, suffix),
                product_id=f"{bundle_id}.{suffix}",
                name=title,
                type_code=kind,
                usd_price=Decimal(usd),
                period=period,
                restorable=restorable,
            )
        )

    if flagship or r.random() < 0.5:
        product("IA1", "pack.small", f"Handful of {noun}", "0.99")
        product("IA1", "pack.large", f"Big Box of {noun}", "9.99")
    if flagship or r.random() < 0.4:
        product("IA1", "pro.unlock", f"{name} Pro", r.choice(("4.99", "9.99")), restorable=True)
    if flagship or r.random() < 0.6:
        product("IAY", "premium.monthly", "Premium Monthly", "4.99", period="1 Month")
        if flagship or r.random() < 0.7:
            product("IAY", "premium.yearly", "Premium Yearly", "29.99", period="1 Year")
        if r.random() < 0.3:
            product("IAY", "premium.weekly", "Premium Weekly", "2.99", period="7 Days")
    if r.random() < 0.15:
        product("IA9", "season.pass", "Season Pass", "4.99")

    popularity = min(4.0, max(0.2, r.lognormvariate(0, 0.6))) * (2.0 if flagship else 1.0)
    return SandboxApp(
        id=app_id,
        index=index,
        name=name,
        bundle_id=bundle_id,
        sku=f"{slug.upper()}{2015 + r.randrange(9)}",
        primary_locale=r.choice(PRIMARY_LOCALES),
        category=r.choice(CATEGORY_LIST),
        made_for_kids=r.random() < 0.1,
        uses_third_party_content=r.random() < 0.2,
        usd_price=Decimal(r.choice(("0.99", "2.99", "4.99"))) if r.random() < 0.25 else Decimal(0),
        download_type="1F" if r.random() < 0.4 else "1",
        popularity=popularity,
        launch_date=date(2015, 1, 1) + timedelta(days=r.randrange(3000)),
        release_cadence_days=r.choice((21, 30, 45, 60)),
        products=tuple(products),
    )


def find_app(team: SandboxTeam, app_id: str) -> SandboxApp | None:
    return next((app for app in team_apps(team) if app.id == app_id), None)


def live_version(app: SandboxApp, day: date) -> str:
    """The App Store version customers download on ``day``."""
    return version_for_release(app, release_index(app, day))


# --- builds ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Build:
    id: str
    app: SandboxApp
    number: int
    version: str  # marketing version of the pre-release version
    platform: str
    uploaded: datetime
    processing_state: str
    audience: str
    min_os: str
    release: int | None = None  # the release this build is the candidate of

    @property
    def expiration(self) -> datetime:
        return self.uploaded + BUILD_LIFETIME

    def expired(self, now: datetime) -> bool:
        return now >= self.expiration

    def state(self, now: datetime) -> str:
        """Processing state at ``now`` (freshly uploaded builds are still processing)."""
        if now - self.uploaded < timedelta(minutes=PROCESSING_MINUTES):
            return "PROCESSING"
        return self.processing_state

    @property
    def pre_release_version_id(self) -> str:
        return pre_release_version_id(self.app, self.version, self.platform)

    @property
    def beta_detail_id(self) -> str:
        return stable_uuid("buildBetaDetails", self.id)


def pre_release_version_id(app: SandboxApp, version: str, platform: str) -> str:
    return stable_uuid("preReleaseVersions", app.id, version, platform)


def _block_start(block: int) -> datetime:
    return datetime.fromordinal(block * BUILD_BLOCK_DAYS).replace(tzinfo=UTC)


@lru_cache(maxsize=4096)
def block_builds(team: SandboxTeam, app: SandboxApp, block: int) -> tuple[Build, ...]:
    """Every build of ``app`` uploaded in 30-day ``block``, in upload order."""
    launch_block = app.launch_date.toordinal() // BUILD_BLOCK_DAYS
    start = _block_start(block)
    r = rng(team.seed, "builds", app.id, block)
    count = r.choice((0, 1, 1, 2, 2, 3))
    uploads: list[tuple[datetime, int | None]] = [
        (start + timedelta(seconds=r.randrange(BUILD_BLOCK_DAYS * 86400)), None)
        for _ in range(count)
    ]
    end = _block_start(block + 1)
    uploads += [(rc.rc_uploaded, rc.index) for rc in releases_between(team, app, start, end)]
    uploads.sort(key=lambda upload: upload[0])
    builds = []
    for slot, (uploaded, candidate_of) in enumerate(uploads):
        number = (block - launch_block) * 8 + slot + 1
        br = rng(team.seed, "build", app.id, number)
        invalid = br.random() < 0.04
        internal = br.random() < 0.15
        if candidate_of is None:
            version = version_for_release(app, release_index(app, uploaded.date()) + 1)
        else:  # a candidate is what gets submitted: valid and App Store eligible
            version = version_for_release(app, candidate_of)
            invalid = internal = False
        builds.append(
            Build(
                id=stable_uuid(team.seed, "build", app.id, number),
                app=app,
                number=number,
                version=version,
                platform="IOS",
                uploaded=uploaded.replace(microsecond=0),
                processing_state="INVALID" if invalid else "VALID",
                audience="INTERNAL_ONLY" if internal else "APP_STORE_ELIGIBLE",
                min_os="17.0" if uploaded.year >= 2025 else "16.0",
                release=candidate_of,
            )
        )
    return tuple(builds)


def app_builds(team: SandboxTeam, app: SandboxApp, now: datetime) -> list[Build]:
    """Builds of ``app`` uploaded in the last 180 days up to ``now``, oldest first."""
    today = now.astimezone(UTC).date()
    first_day = max(app.launch_date, today - timedelta(days=BUILD_HISTORY_DAYS))
    return [
        build
        for block in range(
            first_day.toordinal() // BUILD_BLOCK_DAYS, today.toordinal() // BUILD_BLOCK_DAYS + 1
        )
        for build in block_builds(team, app, block)
        if build.uploaded <= now and build.uploaded.date() >= first_day
    ]


def release_build(team: SandboxTeam, app: SandboxApp, index: int) -> Build:
    """The build submitted with release ``index`` (its candidate)."""
    candidate = release(team, app, index)
    block = candidate.rc_uploaded.date().toordinal() // BUILD_BLOCK_DAYS
    return next(b for b in block_builds(team, app, block) if b.release == index)
