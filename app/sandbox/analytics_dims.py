"""Dimension values of the generated analytics events (ANALYTICS §7 value lists).

An event is drawn as a few *joint* dimensions, each a weighted list of value tuples covering
one or more file columns (``Device`` with its ``Platform Version``, ``Source Type`` with its
``Source Info`` and ``Campaign``, ``Page Type`` with its ``Page Title``…), so dependent values
stay coherent and one ``random.choices`` call draws a dimension for every event of a day.

Values follow Apple's glossaries: Event ``Install``/``Delete``; Download Type
``First-time download``, ``Redownload``, ``Manual update``, ``Restore`` (+ ``Auto-update`` in
App Downloads); Source Type ``App Store search``, ``App Store browse``, ``App referrer``,
``Web referrer``, ``App Clip``, ``Unavailable``, ``Institutional purchase`` (+ ``Notification``
in sessions); Page Type ``Product page``, ``In-app event``, ``Store sheet``, ``No page`` (+ the
discovery pages); devices ``iPhone``, ``iPad`` (Platform Version ``iOS x.y``, ANALYTICS §7.5),
``Apple TV``, ``Apple Vision``. Empty cells: ``Download Type`` on Delete rows, ``Engagement
Type`` unless Tap, ``App Download Date`` when the download was more than 30 days earlier.
Page titles include a double quote and a comma on purpose: Apple's files are not quoted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from app.sandbox.analytics_catalog import Family
from app.sandbox.catalog import SandboxApp
from app.sandbox.markets import COUNTRIES
from app.sandbox.releases import release_day, release_index, version_for_release
from app.sandbox.seeding import stable_hash

Weighted = Iterable[tuple[tuple[str, ...], float]]


@dataclass(frozen=True, slots=True)
class JointDim:
    columns: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    cum_weights: tuple[float, ...]


def joint(columns: tuple[str, ...], weighted: Weighted) -> JointDim:
    pairs = [(values, weight) for values, weight in weighted if weight > 0]
    return JointDim(
        columns,
        tuple(values for values, _ in pairs),
        tuple(accumulate(weight for _, weight in pairs)),
    )


# --- platforms -----------------------------------------------------------------------------

_RELEASES = (
    ("16.7", date(2023, 9, 21)),
    ("17.1", date(2023, 10, 25)),
    ("17.2", date(2023, 12, 11)),
    ("17.3", date(2024, 1, 22)),
    ("17.4", date(2024, 3, 5)),
    ("17.5", date(2024, 5, 13)),
    ("17.6", date(2024, 7, 29)),
    ("18.0", date(2024, 9, 16)),
    ("18.1", date(2024, 10, 28)),
    ("18.2", date(2024, 12, 11)),
    ("18.3", date(2025, 1, 27)),
    ("18.4", date(2025, 3, 31)),
    ("18.5", date(2025, 5, 12)),
    ("18.6", date(2025, 7, 29)),
    ("26.0", date(2025, 9, 15)),
    ("26.1", date(2025, 11, 3)),
    ("26.2", date(2025, 12, 12)),
    ("26.3", date(2026, 2, 2)),
)
_VISION_RELEASES = (
    ("1.0", date(2024, 2, 2)),
    ("1.1", date(2024, 3, 7)),
    ("1.2", date(2024, 6, 10)),
    ("2.0", date(2024, 9, 16)),
    ("2.1", date(2024, 10, 28)),
    ("2.2", date(2024, 12, 11)),
    ("2.3", date(2025, 1, 27)),
    ("2.4", date(2025, 3, 31)),
    ("2.5", date(2025, 5, 12)),
    ("26.0", date(2025, 9, 15)),
    ("26.1", date(2025, 11, 3)),
)
#: Share of devices on the newest, second newest… OS version released by the day.
_ADOPTION = (45, 25, 12, 8, 5, 5)


def _os_versions(releases: tuple[tuple[str, date], ...], day: date) -> list[tuple[str, float]]:
    out = [number for number, released in releases if released <= day][::-1]
    return list(zip(out, _ADOPTION, strict=False))


def _devices(app: SandboxApp, day: date) -> JointDim:
    extra = stable_hash(app.id, "analytics-devices") % 4  # which apps also run on TV / Vision
    devices: list[tuple[tuple[str, ...], float]] = []
    for device, share, prefix, releases in (
        ("iPhone", 72.0, "iOS", _RELEASES),
        ("iPad", 20.0, "iOS", _RELEASES),  # iPad rows report "iOS x.y" (ANALYTICS §7.5)
        ("Apple TV", 3.0 if extra in (1, 3) else 0.0, "tvOS", _RELEASES),
        ("Apple Vision", 1.0 if extra >= 2 else 0.0, "visionOS", _VISION_RELEASES),
    ):
        versions = _os_versions(releases, day)
        total = sum(weight for _, weight in versions)
        devices += [((device, f"{prefix} {v}"), share * w / total) for v, w in versions]
    return joint(("Device", "Platform Version"), devices)


def _app_versions(app: SandboxApp, day: date) -> JointDim:
    latest = release_index(app, day)
    fresh = (day - release_day(app, latest)).days
    newest_share = min(80.0, 20.0 + 12.0 * fresh)
    shares = (newest_share, 100.0 - newest_share, 12.0, 4.0)
    versions: dict[str, float] = {}
    for back, share in enumerate(shares):
        if latest - back >= 0:
            name = version_for_release(app, latest - back)
            versions[name] = versions.get(name, 0.0) + share
    return joint(("App Version",), (((v,), w) for v, w in versions.items()))


# --- sources and pages -------------------------------------------------------------------

_REFERRER_APPS = (
    ("com.google.chrome.ios", 3.0),
    ("com.burbn.instagram", 2.5),
    ("com.facebook.Facebook", 1.5),
    ("com.reddit.Reddit", 1.2),
    ("com.zhiliaoapp.musically", 1.2),
    ("net.whatsapp.WhatsApp", 0.6),
)
_REFERRER_SITES = (
    ("google.com", 4.0),
    ("bing.com", 0.8),
    ("reddit.com", 1.5),
    ("duckduckgo.com", 0.7),
    ("news.ycombinator.com", 0.5),
)
_CAMPAIGNS = (
    ("", 70.0),
    ("spring_promo", 10.0),
    ("newsletter", 8.0),
    ("influencer_q2", 7.0),
    ("launch", 5.0),
)


@lru_cache(maxsize=256)
def _sources(app: SandboxApp, family: Family) -> JointDim:
    domain = app.bundle_id.split(".")[1]
    sites = (*_REFERRER_SITES, (f"{domain}.example.com", 1.5))
    rows: list[tuple[tuple[str, ...], float]] = [
        (("App Store search", "", ""), 34.0),
        (("App Store browse", "", ""), 24.0),
        (("Unavailable", "", ""), 18.0),
        (("App Clip", f"{app.bundle_id}.Clip", ""), 1.0),
        (("Institutional purchase", "", ""), 0.3),
    ]
    for source, share, infos in (
        ("App referrer", 10.0, _REFERRER_APPS),
        ("Web referrer", 9.0, sites),
    ):
        total = sum(w for _, w in infos)
        rows += [
            ((source, info, campaign), share * w / total * cw / 100.0)
            for info, w in infos
            for campaign, cw in _CAMPAIGNS
        ]
    if family is Family.SESSIONS:
        rows.append((("Notification", "", ""), 4.0))  # ANALYTICS §7.2
    return joint(("Source Type", "Source Info", "Campaign"), rows)


_TITLES = (
    ("Default Product Page", 24.0),
    ("Spring Promo", 3.0),
    ('Holiday "Gift" Guide', 2.0),
    ("Pro Features, Explained", 1.0),
)
_EVENTS = (("Weekend Challenge", 2.0), ("Season Premiere", 1.0))
_DISCOVERY_PAGES = (
    ("No page", 45.0),
    ("Store sheet", 6.0),
    ("Notification", 1.0),
    ("App version history", 1.0),
    ("App privacy", 0.8),
    ("Developer page", 1.0),
    ("App accessibility", 0.3),
    ("Media view", 2.0),
)


@lru_cache(maxsize=16)
def _pages(family: Family) -> JointDim:
    rows: list[tuple[tuple[str, ...], float]] = [(("Product page", t), w) for t, w in _TITLES]
    rows += [(("In-app event", t), w) for t, w in _EVENTS]
    if family is Family.DISCOVERY:
        rows += [((page, ""), w) for page, w in _DISCOVERY_PAGES]
    else:
        rows += [(("Store sheet", ""), 12.0), (("No page", ""), 40.0)]
    if family is Family.SESSIONS:
        rows.append((("Notification", ""), 3.0))
    return joint(("Page Type", "Page Title"), rows)


TERRITORIES = joint(("Territory",), (((c.alpha2,), c.weight) for c in COUNTRIES))


# --- what happened -----------------------------------------------------------------------


def _ago(day: date, days: int) -> str:
    return (day - timedelta(days=days)).isoformat()


def _recent_downloads(day: date, share: float) -> list[tuple[str, float]]:
    """App Download Date within the previous 30 days, nearer dates likelier."""
    weights = [1.0 / (1 + k) for k in range(30)]
    total = sum(weights)
    return [(_ago(day, k), share * w / total) for k, w in enumerate(weights)]


def _install_events(day: date) -> JointDim:
    rows: list[tuple[tuple[str, ...], float]] = [
        (("Install", "First-time download", _ago(day, 0)), 36.0),
        (("Install", "First-time download", _ago(day, 1)), 2.0),
        (("Install", "Redownload", _ago(day, 0)), 16.0),
        (("Install", "Redownload", _ago(day, 1)), 1.5),
        (("Install", "Manual update", ""), 5.0),
        (("Install", "Manual update", _ago(day, 0)), 1.0),
        (("Install", "Restore", ""), 4.0),
        (("Delete", "", ""), 20.0),
    ]
    rows += [(("Delete", "", when), w) for when, w in _recent_downloads(day, 12.0)]
    return joint(("Event", "Download Type", "App Download Date"), rows)


_DISCOVERY_EVENTS = joint(
    ("Event", "Engagement Type"),
    [
        (("Impression", ""), 74.0),
        (("Page view", ""), 16.0),
        (("Tap", "Get"), 5.0),
        (("Tap", "Open"), 1.5),
        (("Tap", "Redownload"), 1.5),
        (("Tap", "Update"), 1.0),
        (("Tap", "Notification tap"), 0.4),
        (("Tap", "Share"), 0.3),
        (("Tap", "IAE reminder"), 0.1),
        (("Tap", "IAE reminder deactivated"), 0.05),
    ],
)
_DOWNLOAD_TYPES = joint(
    ("Download Type", "Pre-Order"),
    [
        (("First-time download", ""), 25.0),
        (("Redownload", ""), 12.0),
        (("Manual update", ""), 5.0),
        (("Auto-update", ""), 55.0),
        (("Restore", ""), 3.0),
    ],
)


def _session_download_dates(day: date) -> JointDim:
    return joint(
        ("App Download Date",), [(("",), 85.0), *(((d,), w) for d, w in _recent_downloads(day, 15))]
    )


@lru_cache(maxsize=512)  # day-independent parts are shared, so an entry is a few kB
def day_dimensions(app: SandboxApp, family: Family, day: date) -> tuple[JointDim, ...]:
    """The joint dimensions events of ``family`` are drawn from on ``day``, in key order."""
    versions, devices = _app_versions(app, day), _devices(app, day)
    if family is Family.CRASHES:
        return (versions, devices)
    sources, pages = _sources(app, family), _pages(family)
    if family is Family.INSTALLS:
        return (_install_events(day), versions, devices, sources, pages, TERRITORIES)
    if family is Family.SESSIONS:
        return (versions, devices, sources, pages, _session_download_dates(day), TERRITORIES)
    if family is Family.DISCOVERY:
        return (_DISCOVERY_EVENTS, pages, sources, devices, TERRITORIES)
    return (_DOWNLOAD_TYPES, versions, devices, sources, pages, TERRITORIES)
