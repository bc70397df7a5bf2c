"""TestFlight feedback: crash and screenshot submissions sent by beta testers.

Feedback lives on an absolute timeline of 30-day blocks, like testers and builds: each block of
an app draws its submissions from ``rng(team.seed, "feedback", app.id, block)``. A submission
is sent at a moment inside its block by a tester who has installed a build by then
(:mod:`.testflight`), about one of the three newest valid, unexpired builds at that moment
(:mod:`.catalog`); if there is none, the draw is skipped. So new feedback appears as the
sandbox clock moves, and a webhook scan (:mod:`app.sandbox.webhooks.scanner`) sees it appear.

On top of the timeline, one :class:`FeedbackLedger` per sandbox state remembers what tests did:
feedback added now (admin route), feedback deleted through the API, a volume multiplier, and
how long screenshot URLs stay valid.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from weakref import WeakKeyDictionary

from app.sandbox.catalog import Build, SandboxApp, app_builds
from app.sandbox.seeding import poisson, rng
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.testflight import BetaTester, app_testers

FeedbackKind = Literal["crash", "screenshot"]
KINDS: tuple[FeedbackKind, ...] = ("crash", "screenshot")
FEEDBACK_BLOCK_DAYS = 30
FEEDBACK_HISTORY_DAYS = 180
MEAN_PER_BLOCK: dict[FeedbackKind, float] = {"crash": 2.0, "screenshot": 3.0}


@dataclass(frozen=True, slots=True)
class Device:
    model: str  # hardware identifier; Apple's exact deviceModel format is not pinned
    family: str  # DeviceFamily
    width_points: int
    height_points: int
    scale: int
    disk_total: int


DEVICES = (
    Device("iPhone17,1", "IPHONE", 402, 874, 3, 256_000_000_000),
    Device("iPhone16,2", "IPHONE", 430, 932, 3, 256_000_000_000),
    Device("iPhone15,2", "IPHONE", 393, 852, 3, 128_000_000_000),
    Device("iPhone14,5", "IPHONE", 390, 844, 3, 128_000_000_000),
    Device("iPhone14,6", "IPHONE", 375, 667, 2, 64_000_000_000),
    Device("iPad14,3", "IPAD", 834, 1194, 2, 256_000_000_000),
    Device("iPad13,18", "IPAD", 820, 1180, 2, 64_000_000_000),
)
PLACES = (
    ("en-US", "America/Los_Angeles"),
    ("en-US", "America/New_York"),
    ("en-GB", "Europe/London"),
    ("de-DE", "Europe/Berlin"),
    ("fr-FR", "Europe/Paris"),
    ("ja-JP", "Asia/Tokyo"),
)
WATCHES = ("Watch6,18", "Watch7,3", "Watch7,5")
SCREENSHOT_COMMENTS = (
    "The Save button is hidden behind the keyboard here.",
    "Text is cut off on this screen.",
    "Dark mode makes this label unreadable.",
    "This list doesn't refresh after I pull down.",
    "Love the new layout! Small typo in the header though.",
    "Spinner keeps going forever on this page.",
)
CRASH_COMMENTS = (
    "Crashed right after I tapped Share.",
    "App closed when I rotated the phone.",
    "It crashed while syncing in the background.",
    None,  # crash feedback without a note
    None,
)


@dataclass(frozen=True, slots=True)
class Feedback:
    id: str
    kind: FeedbackKind
    app: SandboxApp
    build: Build
    tester: BetaTester
    created: datetime
    comment: str | None
    device: Device
    os_version: str
    locale: str
    time_zone: str
    connection: str  # DeviceConnectionType
    battery: int
    uptime_ms: int
    disk_available: int
    paired_watch: str | None
    screenshot_count: int  # 0 for crashes

    @property
    def crash_log_id(self) -> str:
        return apple_style_id("betaCrashLog", self.id)

    def screenshot_size(self) -> tuple[int, int]:
        """Pixel size of the screenshots (points × scale)."""
        scale = self.device.scale
        return self.device.width_points * scale, self.device.height_points * scale


def apple_style_id(*parts: object) -> str:
    """An opaque id shaped like Apple's feedback ids (``AK7UjG-qL5QxXf3gIOGjbpQ``)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).digest()
    return "A" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:22]


@dataclass
class FeedbackLedger:
    #: Multiplies the feedback rate of every app (tests use it for multi-page listings).
    volume: float = 1.0
    #: How long a screenshot URL handed out in a response keeps working.
    screenshot_url_ttl: timedelta = timedelta(hours=1)
    added: list[Feedback] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)


_LEDGERS: WeakKeyDictionary[SandboxState, FeedbackLedger] = WeakKeyDictionary()


def feedback_ledger(state: SandboxState) -> FeedbackLedger:
    found = _LEDGERS.get(state)
    if found is None:
        found = _LEDGERS[state] = FeedbackLedger()
    return found


def _os_version(moment: datetime, minor: int) -> str:
    """The iOS release current at ``moment`` (a new major every September)."""
    major = moment.year - 2006 if moment.month >= 9 else moment.year - 2007
    if major >= 19:  # Apple went from 18 to 26 in September 2025
        major += 7
    return f"{major}.{minor}"


def draw_feedback(
    team: SandboxTeam, app: SandboxApp, kind: FeedbackKind, created: datetime, *key: object
) -> Feedback | None:
    """One submission sent at ``created``; ``None`` when no tester or build qualifies."""
    r = rng(team.seed, "feedback-item", app.id, kind, *key)
    testers = [t for t in app_testers(team, app, created) if t.installed and t.installed <= created]
    builds = [
        b
        for b in app_builds(team, app, created)
        if b.state(created) == "VALID" and not b.expired(created)
    ]
    if not testers or not builds:
        return None
    device = r.choice(DEVICES)
    locale, time_zone = r.choice(PLACES)
    comments = SCREENSHOT_COMMENTS if kind == "screenshot" else CRASH_COMMENTS
    return Feedback(
        id=apple_style_id(team.seed, "feedback", app.id, kind, *key),
        kind=kind,
        app=app,
        build=r.choice(builds[-3:]),
        tester=r.choice(testers),
        created=created,
        comment=r.choice(comments),
        device=device,
        os_version=_os_version(created, r.randrange(6)),
        locale=locale,
        time_zone=time_zone,
        connection=r.choice(("WIFI", "WIFI", "MOBILE_DATA")),
        battery=r.randrange(5, 101),
        uptime_ms=r.randrange(2_000, 3_600_000),
        disk_available=r.randrange(2, device.disk_total // 1_000_000_000) * 1_000_000_000,
        paired_watch=r.choice(WATCHES) if device.family == "IPHONE" and r.random() < 0.3 else None,
        screenshot_count=r.choice((1, 1, 1, 2, 3)) if kind == "screenshot" else 0,
    )


@lru_cache(maxsize=4096)
def block_feedback(
    team: SandboxTeam, app: SandboxApp, block: int, volume: float = 1.0
) -> tuple[Feedback, ...]:
    """Every submission of ``app`` sent in 30-day ``block``, oldest first."""
    r = rng(team.seed, "feedback", app.id, block)
    start = datetime.fromordinal(block * FEEDBACK_BLOCK_DAYS).replace(tzinfo=UTC)
    found = []
    for kind in KINDS:
        for index in range(poisson(r, MEAN_PER_BLOCK[kind] * volume)):
            offset = timedelta(milliseconds=r.randrange(FEEDBACK_BLOCK_DAYS * 86_400_000))
            created = start + offset
            item = draw_feedback(team, app, kind, created, block, index)
            if item is not None:
                found.append(item)
    return tuple(sorted(found, key=lambda item: (item.created, item.id)))


def _blocks(start: datetime, end: datetime) -> range:
    return range(
        start.date().toordinal() // FEEDBACK_BLOCK_DAYS,
        end.date().toordinal() // FEEDBACK_BLOCK_DAYS + 1,
    )


def generated_between(
    state: SandboxState, team: SandboxTeam, app: SandboxApp, since: datetime, until: datetime
) -> list[Feedback]:
    """Generated submissions sent in ``(since, until]`` (not deleted), oldest first."""
    ledger = feedback_ledger(state)
    return [
        item
        for block in _blocks(since, until)
        for item in block_feedback(team, app, block, ledger.volume)
        if since < item.created <= until and item.id not in ledger.deleted
    ]


def app_feedback(
    state: SandboxState, team: SandboxTeam, app: SandboxApp, kind: FeedbackKind, now: datetime
) -> list[Feedback]:
    """Submissions of ``kind`` App Store Connect lists at ``now``, oldest first."""
    ledger = feedback_ledger(state)
    first = now - timedelta(days=FEEDBACK_HISTORY_DAYS)
    generated = generated_between(state, team, app, first, now)
    added = [
        item
        for item in ledger.added
        if item.app.id == app.id and item.created <= now and item.id not in ledger.deleted
    ]
    items = [item for item in [*generated, *added] if item.kind == kind]
    return sorted(items, key=lambda item: (item.created, item.id))


def add_feedback(
    state: SandboxState,
    team: SandboxTeam,
    app: SandboxApp,
    kind: FeedbackKind,
    now: datetime,
    comment: str | None = None,
) -> Feedback | None:
    """A tester sends feedback right ``now`` (``None``: no installed tester or valid build)."""
    ledger = feedback_ledger(state)
    item = draw_feedback(team, app, kind, now, "added", len(ledger.added))
    if item is None:
        return None
    if comment is not None:
        item = replace(item, comment=comment)
    ledger.added.append(item)
    return item
