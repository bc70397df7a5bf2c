"""Reference rates by date: conversion reads every rate of a report span (all sources, any
currency) — an index on the day instead of a scan of the whole rate history.

Revision ID: 17_fx_rate_days
Revises: 14_freshness
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "17_fx_rate_days"
down_revision: str | None = "16_analytics_rollups"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_fx_rates_day"), "fx_rates", ["day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_fx_rates_day"), table_name="fx_rates")
