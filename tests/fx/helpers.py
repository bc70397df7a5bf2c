"""Helpers for currency tests: the simulator's clock and running the currency units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from tests.store.helpers import FakeClock, public_jobs, run_public_unit

ECB_URL = "https://ecb.test/stats/eurofxref"
FRANKFURTER_URL = "https://frankfurter.test"
#: A Tuesday, after the ECB's 16:00 CET publication (18:00 UTC).
NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)

__all__ = ["ECB_URL", "FRANKFURTER_URL", "NOW", "FakeClock", "public_jobs", "run_public_unit"]


async def stored_rates(app: FastAPI, source: str = "ecb") -> dict[tuple[dt.date, str], Any]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT day, quote, rate, previous_rate, revised_at FROM fx_rates WHERE source = :s"
            ),
            {"s": source},
        )
        return {(r.day, r.quote): r for r in rows}


def d(text_value: str) -> Decimal:
    return Decimal(text_value)
