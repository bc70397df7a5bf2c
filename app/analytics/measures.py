"""What each ``/v1/analytics`` measure counts: Apple's report, the ``analytics_rows`` column
summed and the rows it counts (shared by the raw-row query and the rollups)."""

from __future__ import annotations

#: measure → (report, column summed, condition on the row); values compared case-insensitively
#: (ANALYTICS §5: "values are not case sensitive").
ADDITIVE: dict[str, tuple[str, str, str]] = {
    "installs": ("installs", "count", "lower(r.event) = 'install'"),
    "first_time_installs": (
        "installs",
        "count",
        "lower(r.event) = 'install' AND lower(r.download_type) = 'first-time download'",
    ),
    "deletions": ("installs", "count", "lower(r.event) = 'delete'"),
    "sessions": ("sessions", "count", "true"),
    "session_seconds": ("sessions", "duration", "true"),
    "impressions": ("discovery", "count", "lower(r.event) = 'impression'"),
    "product_page_views": ("discovery", "count", "lower(r.event) = 'page view'"),
    "downloads": ("downloads", "count", "true"),
    "first_time_downloads": (
        "downloads",
        "count",
        "lower(r.download_type) = 'first-time download'",
    ),
    "crashes": ("crashes", "count", "true"),
}
MEASURES = (*ADDITIVE, "active_devices")
