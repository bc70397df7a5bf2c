"""Rates API rules: reading stored rates, validating and writing a workspace's manual rates
(JSON or CSV; all or nothing), and the workspace's reporting currency."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import FieldError, ValidationFailed
from app.fx import repository
from app.fx.convert import text
from app.fx.currencies import APPLE_CURRENCIES, EUR, EURO_FIXED, is_known
from app.fx.schemas import (
    FxSettingsRead,
    ManualRatesWrite,
    ManualRateWrite,
    RateRead,
    RateSource,
    RatesPage,
)
from app.kit import cursors
from app.kit.pagination import PageRequest

MAX_RANGE_DAYS = 3660
CSV_COLUMNS = ("date", "base", "quote", "rate")


def _field_error(errors: list[FieldError], where: str, message: str, kind: str) -> None:
    errors.append(FieldError(field=where, message=message, type=kind))


async def list_rates(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    base: str | None,
    quote: str | None,
    start: dt.date | None,
    end: dt.date | None,
    sources: list[RateSource],
    paging: PageRequest,
    today: dt.date,
) -> RatesPage:
    end = end or today
    start = start or end - dt.timedelta(days=30)
    if start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed.single(
            "query.from", f"the range may span at most {MAX_RANGE_DAYS} days", "out_of_range"
        )
    for name, code in (("base", base), ("quote", quote)):
        if code is not None and not is_known(code.upper()):
            raise ValidationFailed.single(f"query.{name}", "not an ISO 4217 code", "currency")
    chosen = [s.value for s in sources] or [s.value for s in RateSource]
    after = paging.after(cursors.day, cursors.TEXT, cursors.TEXT, cursors.TEXT, cursors.TEXT)
    rows = await repository.list_rates(
        session,
        workspace_id,
        base=base.upper() if base else None,
        quote=quote.upper() if quote else None,
        start=start,
        end=end,
        sources=chosen,
        after=after,
        limit=paging.fetch,
    )
    page = paging.page(
        rows,
        lambda r: [r.day.isoformat(), r.base, r.quote, r.source, r.provider],
        lambda r: RateRead(
            date=r.day,
            base=r.base,
            quote=r.quote,
            rate=text(r.rate),
            source=RateSource(r.source),
            provider=r.provider or None,
            fetched_at=r.fetched_at,
        ),
    )
    covered = await repository.currencies_with_rates(session, workspace_id, start=start, end=end)
    missing = sorted(APPLE_CURRENCIES - covered - set(EURO_FIXED) - {EUR})
    return RatesPage(
        items=page.items, next_cursor=page.next_cursor, currencies_without_rate=missing
    )


def parse_csv(body: bytes) -> ManualRatesWrite:
    """``date,base,quote,rate[,note]`` with a header line; errors name the line."""
    try:
        content = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.single("body", "the CSV must be UTF-8", "encoding") from None
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if not set(CSV_COLUMNS) <= set(header):
        raise ValidationFailed.single(
            "body", "the CSV header must name date,base,quote,rate (and optionally note)", "csv"
        )
    reader.fieldnames = header
    items: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            _field_error(errors, f"body.line[{number}]", "more cells than columns", "csv")
            continue
        items.append({k: (v or "").strip() or None for k, v in row.items() if k})
    if errors:
        raise ValidationFailed(f"{len(errors)} invalid CSV line(s)", errors)
    try:
        return ManualRatesWrite.model_validate({"rates": items})
    except ValidationError as error:
        field_errors = [
            FieldError(
                field="body." + ".".join(str(p) for p in e["loc"]),
                message=e["msg"],
                type=e["type"],
            )
            for e in error.errors()
        ]
        raise ValidationFailed(f"{len(field_errors)} invalid value(s)", field_errors) from None


def validate_manual(upload: ManualRatesWrite, today: dt.date) -> list[dict[str, Any]]:
    """Every rate checked before anything is written: positive decimal, known ISO 4217 codes,
    base ≠ quote, not in the future, each (date, base, quote) once."""
    errors: list[FieldError] = []
    rows: list[dict[str, Any]] = []
    seen: set[tuple[dt.date, str, str]] = set()
    for index, item in enumerate(upload.rates):
        where = f"body.rates[{index}]"
        row = _validated(item, where, today, errors)
        if row is None:
            continue
        key = (row["day"], row["base"], row["quote"])
        if key in seen:
            _field_error(errors, where, "the same date, base and quote appear twice", "duplicate")
        seen.add(key)
        rows.append(row)
    if errors:
        raise ValidationFailed(f"{len(errors)} invalid rate(s); nothing was written", errors)
    return rows


def _validated(
    item: ManualRateWrite, where: str, today: dt.date, errors: list[FieldError]
) -> dict[str, Any] | None:
    before = len(errors)
    base, quote = item.base.upper(), item.quote.upper()
    for name, code in (("base", base), ("quote", quote)):
        if not is_known(code):
            _field_error(errors, f"{where}.{name}", f"{code!r} is not an ISO 4217 code", "currency")
    if base == quote:
        _field_error(errors, f"{where}.quote", "must differ from base", "invalid")
    if item.date > today:
        _field_error(errors, f"{where}.date", "must not be in the future", "out_of_range")
    try:
        rate = Decimal(item.rate)
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or rate <= 0:
        _field_error(errors, f"{where}.rate", "must be a positive decimal number", "invalid")
    if len(errors) > before:
        return None
    return {"day": item.date, "base": base, "quote": quote, "rate": rate, "note": item.note}


async def put_manual(
    session: AsyncSession, workspace_id: uuid.UUID, upload: ManualRatesWrite, now: dt.datetime
) -> int:
    rows = validate_manual(upload, now.date())
    return await repository.upsert_manual(session, workspace_id, rows, now)


async def get_settings(session: AsyncSession, workspace_id: uuid.UUID) -> FxSettingsRead:
    currency = await repository.reporting_currency(session, workspace_id)
    return FxSettingsRead(reporting_currency=currency)


async def set_settings(
    session: AsyncSession, workspace_id: uuid.UUID, currency: str | None, now: dt.datetime
) -> FxSettingsRead:
    code = currency.upper() if currency else None
    if code is not None and not is_known(code):
        raise ValidationFailed.single(
            "body.reporting_currency", f"{currency!r} is not an ISO 4217 code", "currency"
        )
    await repository.set_reporting_currency(session, workspace_id, code, now)
    return FxSettingsRead(reporting_currency=code)
