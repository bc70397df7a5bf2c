"""Currency rates: the stored reference rates, a workspace's manual rates, its reporting
currency."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError

from app.auth.deps import Admin, Reader
from app.errors import FieldError, ValidationFailed
from app.fx import service
from app.fx.schemas import (
    FxSettingsRead,
    FxSettingsWrite,
    ManualRatesWrite,
    ManualRatesWritten,
    RateSource,
    RatesPage,
)
from app.kit.dates import Day
from app.kit.deps import Session
from app.kit.pagination import CursorParam, PageRequest
from app.kit.problems import AUTHED, problem_responses

router = APIRouter(tags=["fx"])

CodeParam = Annotated[str | None, Query(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")]
_CSV_EXAMPLE = "date,base,quote,rate,note\n2025-06-02,EUR,KZT,580.12,central bank\n"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get(
    "/v1/fx/rates",
    response_model=RatesPage,
    operation_id="list_fx_rates",
    responses=problem_responses(*AUTHED),
)
async def list_fx_rates(
    principal: Reader,
    session: Session,
    base: CodeParam = None,
    quote: CodeParam = None,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First day (default: 30 days before `to`).")
    ] = None,
    to_date: Annotated[
        Day | None, Query(alias="to", description="Last day (default: today).")
    ] = None,
    source: Annotated[
        list[RateSource] | None,
        Query(description="Only these sources (repeat for several; default: all)."),
    ] = None,
    limit: int = Query(500, ge=1, le=5000, description="Items per page, at most 5000."),
    cursor: CursorParam = None,
) -> RatesPage:
    """Stored rates, 1 `base` = `rate` `quote` per day, from every source side by side: the
    ECB's euro reference rates (`ecb`, base EUR), a Frankfurter server's (`frankfurter`, for
    the currencies the ECB does not publish, when configured) and this workspace's `manual`
    rates. `currencies_without_rate` lists Apple's report currencies that have no rate at
    all in the range: their amounts stay unconverted."""
    return await service.list_rates(
        session,
        principal.workspace_id,
        base=base,
        quote=quote,
        start=from_date,
        end=to_date,
        sources=source or [],
        paging=PageRequest(limit, cursor),
        today=_now().date(),
    )


@router.put(
    "/v1/fx/rates",
    response_model=ManualRatesWritten,
    operation_id="put_fx_manual_rates",
    responses=problem_responses(*AUTHED),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ManualRatesWrite"}},
                "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
            },
        }
    },
)
async def put_fx_manual_rates(
    request: Request, principal: Admin, session: Session
) -> ManualRatesWritten:
    """Upload manual rates (admin): JSON `{"rates": [{date, base, quote, rate, note?}]}` or
    CSV (`Content-Type: text/csv`, header `date,base,quote,rate[,note]`). Each means 1 `base`
    = `rate` `quote` on `date`. Validated as a whole — a positive decimal rate, known ISO 4217
    codes, base ≠ quote, no future date, each (date, base, quote) once — and written all or
    nothing: any error answers 422 naming every bad field, and nothing is stored. An upload
    replaces this workspace's manual rate of the same (date, base, quote). Manual rates take
    precedence over the ECB and Frankfurter in conversions for this workspace only."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    upload = service.parse_csv(body) if content_type == "text/csv" else _json_upload(body)
    written = await service.put_manual(session, principal.workspace_id, upload, _now())
    return ManualRatesWritten(written=written)


def _json_upload(body: bytes) -> ManualRatesWrite:
    try:
        document = json.loads(body or b"null")
    except (ValueError, RecursionError):
        raise ValidationFailed.single(
            "body", "not JSON (or nested too deeply)", "json_invalid"
        ) from None
    try:
        return ManualRatesWrite.model_validate(document)
    except ValueError as error:
        if isinstance(error, ValidationError):
            raise ValidationFailed(
                f"{error.error_count()} invalid value(s); nothing was written",
                [
                    FieldError(
                        field="body." + ".".join(str(p) for p in e["loc"]),
                        message=e["msg"],
                        type=e["type"],
                    )
                    for e in error.errors()
                ],
            ) from None
        raise


@router.get(
    "/v1/fx/settings",
    response_model=FxSettingsRead,
    operation_id="get_fx_settings",
    responses=problem_responses(*AUTHED),
)
async def get_fx_settings(principal: Reader, session: Session) -> FxSettingsRead:
    """The workspace's default reporting currency."""
    return await service.get_settings(session, principal.workspace_id)


@router.patch(
    "/v1/fx/settings",
    response_model=FxSettingsRead,
    operation_id="update_fx_settings",
    responses=problem_responses(*AUTHED),
)
async def update_fx_settings(
    body: FxSettingsWrite, principal: Admin, session: Session
) -> FxSettingsRead:
    """Set (or unset, with null) the workspace's default reporting currency: the revenue
    routes convert into it when a request gives no `currency` (admin)."""
    return await service.set_settings(
        session, principal.workspace_id, body.reporting_currency, _now()
    )
