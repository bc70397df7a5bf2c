"""The Analytics Reports catalogue: Apple's report names, categories, ids and file columns.

Names are the API's exact ``name`` strings (ANALYTICS §6), which differ from Apple's doc
titles. Report ids are ``r<N>-<requestId>`` (ANALYTICS §2); the observed numbers are used where
known (r2 App Crashes, r6/r8 Installation and Deletion / Sessions Standard, r14/r15 Discovery,
r19 Streaming Playback Performance, r179/r180 Web Preview, r189 App Opt In, r320 Retention
Messaging), the rest are the sandbox's own choice. Whether ``N`` is the same in every account
is unconfirmed, hence :data:`NUMBERING_PER_TEAM` (see :func:`report_number`).

Column layouts (file order, ANALYTICS §7): a column marked detailed-only appears in the
Detailed variant only; Standard has the same order without them. Reports with a ``family``
carry generated data (:mod:`.analytics_data`); the others exist by name but never publish an
instance (as Apple does for, e.g., App Clip Usage of an app without an App Clip).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.sandbox.seeding import stable_hash
from app.sandbox.state import SandboxTeam

#: Most reports hold data "beginning from January 1, 2024" (ANALYTICS §3).
DATA_START = date(2024, 1, 1)
GRANULARITIES = ("DAILY", "WEEKLY", "MONTHLY")
DAILY_ONLY = ("DAILY",)
CATEGORIES = (
    "APP_USAGE",
    "APP_STORE_ENGAGEMENT",
    "COMMERCE",
    "FRAMEWORK_USAGE",
    "PERFORMANCE",
)
NUMBERING_FIXED = "fixed"
NUMBERING_PER_TEAM = "per_team"
#: The two spellings seen for the subscription state report (ANALYTICS §6, unconfirmed).
SUBSCRIPTION_STATE_NAMES = (
    "App Store Subscription State Standard",
    "App Store Subscription State Report Standard",
)


class Family(StrEnum):
    """A source of generated events; Standard and Detailed are two cuts of one family."""

    INSTALLS = "installs"
    SESSIONS = "sessions"
    DISCOVERY = "discovery"
    DOWNLOADS = "downloads"
    CRASHES = "crashes"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    detailed_only: bool = False


def _columns(spec: str) -> tuple[Column, ...]:
    """``"Date · Source Info* · …"`` → columns (``*`` = Detailed only), as ANALYTICS §7 writes."""
    return tuple(
        Column(part.strip().rstrip("*"), part.strip().endswith("*")) for part in spec.split("·")
    )


_LEAD = "Date · App Name · App Apple Identifier · "
#: File columns per family (ANALYTICS §7.1–§7.5); the first three are the same everywhere.
FAMILY_COLUMNS: dict[Family, tuple[Column, ...]] = {
    Family.INSTALLS: _columns(
        _LEAD + "Event · Download Type · App Version · Device · Platform Version · Source Type · "
        "Source Info* · Campaign* · Page Type · Page Title* · App Download Date · Territory · "
        "Counts · Unique Devices"
    ),
    Family.SESSIONS: _columns(
        _LEAD + "App Version · Device · Platform Version · Source Type · Source Info* · "
        "Campaign* · Page Type · Page Title* · App Download Date · Territory · Sessions · "
        "Total Session Duration · Unique Devices"
    ),
    Family.DISCOVERY: _columns(
        _LEAD + "Event · Page Type · Page Title* · Source Type · Source Info* · Campaign* · "
        "Engagement Type · Device · Platform Version · Territory · Counts · Unique Counts"
    ),
    Family.DOWNLOADS: _columns(
        _LEAD + "Download Type · App Version · Device · Platform Version · Source Type · "
        "Source Info* · Campaign* · Page Type · Page Title* · Pre-Order · Territory · Counts"
    ),
    Family.CRASHES: _columns(
        _LEAD + "App Version · Device · Platform Version · Crashes · Unique Devices"
    ),
}
#: Metric columns per family, and which of them count distinct devices (never summed).
FAMILY_METRICS: dict[Family, tuple[str, ...]] = {
    Family.INSTALLS: ("Counts", "Unique Devices"),
    Family.SESSIONS: ("Sessions", "Total Session Duration", "Unique Devices"),
    Family.DISCOVERY: ("Counts", "Unique Counts"),
    Family.DOWNLOADS: ("Counts",),
    Family.CRASHES: ("Crashes", "Unique Devices"),
}
UNIQUE_METRICS = frozenset({"Unique Devices", "Unique Counts"})
#: App usage reports are not generated for a period with < 5 users (ANALYTICS §8).
USAGE_FAMILIES = frozenset({Family.INSTALLS, Family.SESSIONS, Family.CRASHES})
#: Days after the date until a daily value is final (ANALYTICS §4, per report page).
COMPLETENESS_DAYS: dict[Family, int] = {
    Family.INSTALLS: 5,
    Family.SESSIONS: 5,
    Family.CRASHES: 5,
    Family.DISCOVERY: 3,
    Family.DOWNLOADS: 2,
}


@dataclass(frozen=True, slots=True)
class ReportDef:
    number: int
    name: str
    category: str
    family: Family | None = None
    detailed: bool = False
    granularities: tuple[str, ...] = GRANULARITIES

    @property
    def columns(self) -> tuple[Column, ...]:
        if self.family is None:
            return ()
        return tuple(c for c in FAMILY_COLUMNS[self.family] if self.detailed or not c.detailed_only)

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def completeness_days(self) -> int:
        return COMPLETENESS_DAYS[self.family] if self.family else 1

    @property
    def path_code(self) -> str:
        """The report's folder in segment URLs (Apple's example: ``APP_CRASHES_PRIMARY``)."""
        if self.name == "App Crashes":
            return "APP_CRASHES_PRIMARY"
        return "".join(ch if ch.isalnum() else "_" for ch in self.name.upper())


def _pair(
    number: int,
    base: str,
    category: str,
    family: Family | None = None,
    detailed_granularities: tuple[str, ...] = GRANULARITIES,
    standard_granularities: tuple[str, ...] = GRANULARITIES,
) -> list[ReportDef]:
    return [
        ReportDef(number, f"{base} Standard", category, family, False, standard_granularities),
        ReportDef(number + 1, f"{base} Detailed", category, family, True, detailed_granularities),
    ]


def _single(number: int, name: str, category: str) -> ReportDef:
    return ReportDef(number, name, category)


def report_catalogue(subscription_state_name: str = SUBSCRIPTION_STATE_NAMES[0]) -> list[ReportDef]:
    """Every report a request carries, in id order (ANALYTICS §6)."""
    return [
        ReportDef(2, "App Crashes", "APP_USAGE", Family.CRASHES),
        _single(3, "App Crashes Expanded", "PERFORMANCE"),
        *_pair(4, "App Clip Usage", "APP_USAGE"),
        *_pair(6, "App Store Installation and Deletion", "APP_USAGE", Family.INSTALLS),
        *_pair(8, "App Sessions", "APP_USAGE", Family.SESSIONS),
        # Downloads: weekly/monthly exist for the Detailed report only (ANALYTICS §4).
        *_pair(
            10, "App Downloads", "COMMERCE", Family.DOWNLOADS, standard_granularities=DAILY_ONLY
        ),
        *_pair(12, "App Store Purchases", "COMMERCE"),
        *_pair(14, "App Store Discovery and Engagement", "APP_STORE_ENGAGEMENT", Family.DISCOVERY),
        *_pair(16, "App Store Pre-Orders", "COMMERCE"),
        _single(18, "App Install Performance", "PERFORMANCE"),
        _single(19, "Streaming Playback Performance", "PERFORMANCE"),
        _single(20, "Streaming Downloads Performance", "PERFORMANCE"),
        _single(21, "AirPlay Performance", "PERFORMANCE"),
        _single(22, "CAMetalLayer Performance", "PERFORMANCE"),
        _single(23, "Platform App Installs", "APP_USAGE"),
        _single(24, "App Store Subscription Event Standard", "COMMERCE"),
        _single(25, subscription_state_name, "COMMERCE"),
        _single(30, "AirPlay Discovery Sessions", "FRAMEWORK_USAGE"),
        _single(31, "Home Screen Widget Usage", "FRAMEWORK_USAGE"),
        _single(32, "Live Activity Use", "FRAMEWORK_USAGE"),
        *_pair(179, "App Store Web Preview Engagement", "APP_STORE_ENGAGEMENT"),
        _single(189, "App Opt In", "APP_USAGE"),
        _single(320, "Retention Messaging", "APP_STORE_ENGAGEMENT"),
    ]


def report_number(report: ReportDef, team: SandboxTeam, numbering: str) -> int:
    """``N`` of ``r<N>-<requestId>``: Apple's observed number, or shifted per team."""
    if numbering == NUMBERING_PER_TEAM:
        return report.number + 1000 * (1 + stable_hash(team.seed, "report-numbering") % 9)
    return report.number


#: Territory names for the ``territory_format="name"`` variant (ANALYTICS §7: seeds use
#: alpha-2 codes, some fixtures names; unconfirmed).
TERRITORY_NAMES: dict[str, str] = {
    "US": "United States",
    "CA": "Canada",
    "MX": "Mexico",
    "BR": "Brazil",
    "AR": "Argentina",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "IT": "Italy",
    "ES": "Spain",
    "NL": "Netherlands",
    "CH": "Switzerland",
    "SE": "Sweden",
    "NO": "Norway",
    "PL": "Poland",
    "TR": "Turkey",
    "JP": "Japan",
    "KR": "Republic of Korea",
    "CN": "China mainland",
    "TW": "Taiwan",
    "HK": "Hong Kong",
    "SG": "Singapore",
    "IN": "India",
    "AU": "Australia",
    "NZ": "New Zealand",
    "SA": "Saudi Arabia",
    "AE": "United Arab Emirates",
    "ZA": "South Africa",
    "KZ": "Kazakhstan",
    "UA": "Ukraine",
    "KE": "Kenya",
}
