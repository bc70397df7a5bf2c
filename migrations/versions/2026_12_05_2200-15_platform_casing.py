"""Sales platforms in Apple's casing (issue 15): `ios` → `IOS`, `macos` → `MAC_OS`, …, as on
versions, builds and the `platform` filters, in the stored rows and their daily rollups.

Revision ID: 15_platform_casing
Revises: 14_freshness
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "15_platform_casing"
down_revision: str | None = "17_fx_rate_days"
branch_labels: str | None = None
depends_on: str | None = None

#: The derived platform of a sales line, before and after (app.sales.layout.platform_sql).
CASINGS = {
    "ios": "IOS",
    "macos": "MAC_OS",
    "tvos": "TV_OS",
    "watchos": "WATCH_OS",
    "visionos": "VISION_OS",
    "unknown": "UNKNOWN",
}
TABLES = ("sales_rows", "sales_daily_rollup")


def _rewrite(mapping: dict[str, str]) -> None:
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in mapping.items())
    olds = ", ".join(f"'{old}'" for old in mapping)
    for table in TABLES:
        op.execute(
            f"UPDATE {table} SET platform = CASE platform {cases} END WHERE platform IN ({olds})"  # noqa: S608  (fixed tables and values of this file)
        )


def upgrade() -> None:
    _rewrite(CASINGS)


def downgrade() -> None:
    _rewrite({new: old for old, new in CASINGS.items()})
