"""The analytics reports Orchard reads: Apple's exact report names (ANALYTICS §6), how each
file's columns map onto ``analytics_rows`` (by header name, ANALYTICS §5/§7) and how long until
a daily date is complete (ANALYTICS §4).

Standard cuts only: every dimension ``/v1/analytics`` serves is in the Standard reports, and
Standard and Detailed are two cuts of the same events (never added, ANALYTICS §0.9); Detailed
rows also lose everything under 5 devices and carry noise (§8).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.reports.ingest import Field, Layout


class Report(StrEnum):
    """Orchard's key of an analytics report (``report`` in the tables)."""

    INSTALLS = "installs"
    SESSIONS = "sessions"
    DISCOVERY = "discovery"
    DOWNLOADS = "downloads"
    CRASHES = "crashes"


GRANULARITIES = ("DAILY", "WEEKLY", "MONTHLY")


@dataclass(frozen=True)
class ReportDef:
    report: Report
    name: str  # Apple's exact ``name``
    category: str  # Apple's ``filter[category]``
    layout: Layout
    completeness_days: int
    #: Granularities Orchard loads (Apple's weekly/monthly carry the non-additive uniques).
    granularities: tuple[str, ...] = GRANULARITIES


def _lead() -> tuple[Field, ...]:
    return (Field("report_date", ("Date",), "date_iso", required=True),)


def _dims(*names: tuple[str, str]) -> tuple[Field, ...]:
    # Territory: alpha-2 or a name (ANALYTICS §7, unconfirmed) — stored as alpha-2 either way.
    return tuple(
        Field(target, (header,), "territory" if target == "territory" else "text")
        for target, header in names
    )


_VERSION = ("app_version", "App Version")
_DEVICE = ("device", "Device")
_PLATFORM = ("platform_version", "Platform Version")
_SOURCE = ("source_type", "Source Type")
_PAGE = ("page_type", "Page Type")
_TERRITORY = ("territory", "Territory")
_EVENT = ("event", "Event")
_DOWNLOAD_TYPE = ("download_type", "Download Type")

#: Known columns Orchard does not store (kept out of ``unknown_columns``).
_IGNORED = frozenset(
    {
        "App Name",
        "App Apple Identifier",
        "App Download Date",
        "Source Info",
        "Campaign",
        "Page Title",
        "Pre-Order",
    }
)


def _layout(name: str, *fields: Field) -> Layout:
    return Layout(name=name, fields=(*_lead(), *fields), ignored=_IGNORED)


REPORTS: tuple[ReportDef, ...] = (
    ReportDef(
        Report.INSTALLS,
        "App Store Installation and Deletion Standard",
        "APP_USAGE",
        _layout(
            "App Store Installation and Deletion Standard",
            *_dims(
                _EVENT, _DOWNLOAD_TYPE, _VERSION, _DEVICE, _PLATFORM, _SOURCE, _PAGE, _TERRITORY
            ),
            Field("count", ("Counts",), "numeric", required=True),
            Field("unique_count", ("Unique Devices",), "numeric"),
        ),
        completeness_days=5,
    ),
    ReportDef(
        Report.SESSIONS,
        "App Sessions Standard",
        "APP_USAGE",
        _layout(
            "App Sessions Standard",
            *_dims(_VERSION, _DEVICE, _PLATFORM, _SOURCE, _PAGE, _TERRITORY),
            Field("count", ("Sessions",), "numeric", required=True),
            Field("duration", ("Total Session Duration",), "numeric"),
            Field("unique_count", ("Unique Devices",), "numeric"),
        ),
        completeness_days=5,
    ),
    ReportDef(
        Report.DISCOVERY,
        "App Store Discovery and Engagement Standard",
        "APP_STORE_ENGAGEMENT",
        _layout(
            "App Store Discovery and Engagement Standard",
            *_dims(_EVENT, _PAGE, _SOURCE, ("engagement_type", "Engagement Type")),
            *_dims(_DEVICE, _PLATFORM, _TERRITORY),
            Field("count", ("Counts",), "numeric", required=True),
            Field("unique_count", ("Unique Counts",), "numeric"),
        ),
        completeness_days=3,
    ),
    ReportDef(
        Report.DOWNLOADS,
        "App Downloads Standard",
        "COMMERCE",
        _layout(
            "App Downloads Standard",
            *_dims(_DOWNLOAD_TYPE, _VERSION, _DEVICE, _PLATFORM, _SOURCE, _PAGE, _TERRITORY),
            Field("count", ("Counts",), "numeric", required=True),
        ),
        completeness_days=2,
        # Apple publishes weekly/monthly downloads for the Detailed report only (ANALYTICS §4);
        # counts are additive, so Orchard sums the daily Standard rows instead.
        granularities=("DAILY",),
    ),
    ReportDef(
        Report.CRASHES,
        "App Crashes",
        "APP_USAGE",
        _layout(
            "App Crashes",
            *_dims(_VERSION, _DEVICE, _PLATFORM),
            Field("count", ("Crashes",), "numeric", required=True),
            Field("unique_count", ("Unique Devices",), "numeric"),
        ),
        completeness_days=5,
    ),
)
BY_NAME = {r.name.lower(): r for r in REPORTS}
BY_REPORT = {r.report: r for r in REPORTS}
CATEGORIES = tuple(sorted({r.category for r in REPORTS}))


def find(name: str) -> ReportDef | None:
    """The report Orchard reads under Apple's ``name`` (compared case-insensitively)."""
    return BY_NAME.get(name.strip().lower())
