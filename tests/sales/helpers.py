"""Building sales reports for tests, Apple at the HTTP boundary, and an independent reference
aggregator (plain Python over the raw report cells, no Orchard code) for expected totals."""

from __future__ import annotations

import gzip
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.sandbox.sales import SALES_HEADER
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import INSTANT_RETRY

HEADER = list(SALES_HEADER)
RATE_LIMIT = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3500;"}
NO_SALES = "There were no sales for the date specified."


def row(**cells: str) -> dict[str, str]:
    """A report line; cells by header name with spaces as underscores (``Product_Type_Identifier``
    or short aliases below); unset cells are Apple's single-space blank."""
    aliases = {
        "type": "Product Type Identifier",
        "units": "Units",
        "proceeds": "Developer Proceeds",
        "price": "Customer Price",
        "currency": "Customer Currency",
        "proceeds_currency": "Currency of Proceeds",
        "country": "Country Code",
        "apple_id": "Apple Identifier",
        "parent": "Parent Identifier",
        "device": "Device",
        "sku": "SKU",
        "title": "Title",
    }
    line = dict.fromkeys(HEADER, " ")
    line.update({"Provider": "APPLE", "Provider Country": "US", "CMB": ""})
    for name, value in cells.items():
        line[aliases.get(name, name.replace("_", " "))] = value
    if "proceeds_currency" not in cells and "currency" in cells:
        line["Currency of Proceeds"] = cells["currency"]
    return line


def tsv(rows: Iterable[dict[str, str]], day: str | None = None) -> bytes:
    """Gzipped report text; ``day`` (YYYY-MM-DD) fills Begin/End Date as Apple writes them."""
    lines = ["\t".join(HEADER)]
    for line in rows:
        if day is not None:
            year, month, dom = day.split("-")
            line = {
                **line,
                "Begin Date": f"{month}/{dom}/{year}",
                "End Date": f"{month}/{dom}/{year}",
            }
        lines.append("\t".join(line[name] for name in HEADER))
    return gzip.compress(("\n".join(lines) + "\n").encode())


class FakeApple:
    """Apple's salesReports endpoint serving ``reports["vendor/date"]`` or else
    ``reports["date"]``: bytes → the file, None →
    "There were no sales…", a missing date → 404 "not available yet", ``"truncated"`` → a
    gzip cut in half. Other paths answer an empty list."""

    def __init__(self) -> None:
        self.reports: dict[str, bytes | str | None] = {}
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path != "/v1/salesReports":
            return httpx.Response(
                200, json={"data": [], "links": {"self": str(request.url)}}, headers=RATE_LIMIT
            )
        day = request.url.params.get("filter[reportDate]", "")
        vendor = request.url.params.get("filter[vendorNumber]", "")
        if f"{vendor}/{day}" in self.reports:  # one account's file
            day = f"{vendor}/{day}"
        if day not in self.reports:
            return _not_found("Report is not available yet.")
        body = self.reports[day]
        if body is None:
            return _not_found(NO_SALES)
        if isinstance(body, str):  # "truncated"
            whole = gzip.compress(b"x\t" * 100_000)
            body = whole[: len(whole) // 2]
        return httpx.Response(
            200,
            content=body,
            headers={
                **RATE_LIMIT,
                "Content-Type": "application/a-gzip",
                "x-reports-download-version": "1_0",
            },
        )


def _not_found(detail: str) -> httpx.Response:
    error = {"status": "404", "code": "NOT_FOUND", "title": "Not found", "detail": detail}
    return httpx.Response(404, json={"errors": [error]}, headers=RATE_LIMIT)


@asynccontextmanager
async def fake_apple_app(settings: Settings, apple: FakeApple) -> AsyncIterator[FastAPI]:
    application = create_app(settings, asc_transport=apple.transport(), asc_retry=INSTANT_RETRY)
    async with application.router.lifespan_context(application):
        yield application


async def add_app(
    db: asyncpg.Connection, tenant: Tenant, account_id: uuid.UUID, apple_id: str, sku: str
) -> uuid.UUID:
    """A catalog app, as the apps dataset would have stored it (sales rows join on it)."""
    app_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        app_id,
        tenant.workspace_id,
        account_id,
        apple_id,
        f"App {sku}",
        f"com.example.{sku}",
        sku,
    )
    return app_id


# --- the reference aggregator ----------------------------------------------------------------

KIND_OF = {
    **dict.fromkeys(
        ["1", "1F", "1T", "F1", "1E", "1EP", "1EU", "1-B", "F1-B"], "first_time_downloads"
    ),
    **dict.fromkeys(["3", "3F", "3T", "F3"], "redownloads"),
    **dict.fromkeys(["7", "7F", "7T", "F7"], "updates"),
    **dict.fromkeys(["IA1", "IA1-M", "FI1", "IA9", "IA9-M"], "iap_units"),
    **dict.fromkeys(["IAY", "IAY-M"], "subscription_units"),
    "IA3": "restores",
}
KIND_NAMES = {
    "first_time_downloads": "first_time_download",
    "redownloads": "redownload",
    "updates": "update",
    "iap_units": "iap",
    "subscription_units": "subscription",
    "restores": "restore",
}


def unit_kind(line: dict[str, str]) -> str:
    measure = KIND_OF.get(line["Product Type Identifier"].strip())
    return KIND_NAMES[measure] if measure else "other"


COUNTS = [
    "first_time_downloads",
    "redownloads",
    "updates",
    "iap_units",
    "subscription_units",
    "restores",
    "refunds",
    "net_units",
]


def _decimal(cell: str) -> Decimal:
    return Decimal(cell.strip().replace(",", "") or "0")


def expected_measures(lines: Iterable[dict[str, str]]) -> dict[str, Any]:
    """What /v1/sales must answer for these report lines, computed straight from the cells."""
    counts = dict.fromkeys(COUNTS, 0)
    proceeds: dict[str | None, Decimal] = defaultdict(Decimal)
    sales: dict[str | None, Decimal] = defaultdict(Decimal)
    for line in lines:
        units = int(_decimal(line["Units"]))
        kind = KIND_OF.get(line["Product Type Identifier"].strip())
        if units > 0 and kind:
            counts[kind] += units
        if units < 0:
            counts["refunds"] -= units
        counts["net_units"] += units
        proceeds[line["Currency of Proceeds"].strip() or None] += units * _decimal(
            line["Developer Proceeds"]
        )
        sales[line["Customer Currency"].strip() or None] += units * abs(
            _decimal(line["Customer Price"])
        )
    return {**counts, "proceeds": money(proceeds), "customer_sales": money(sales)}


def money(totals: dict[str | None, Decimal]) -> list[dict[str, Any]]:
    """Expected money lists: non-zero totals, by currency, no currency (ISO 4217 `XXX`) last;
    compared as Decimals."""
    return [
        {"amount": amount, "currency": currency or "XXX"}
        for currency, amount in sorted(totals.items(), key=lambda i: (i[0] is None, i[0] or ""))
        if amount != 0
    ]


#: ISO 4217 minor units of the currencies the sales tests use (2 for the others).
MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "KWD": 3, "BHD": 3}


def assert_minor_units(entry: dict[str, Any]) -> None:
    """One decimal rule (issue 15, item 7): exactly the currency's minor units, zero included."""
    digits = MINOR_UNITS.get(entry["currency"], 2)
    fraction = entry["amount"].partition(".")[2]
    assert len(fraction) == digits, entry
    assert entry["currency"] is not None


def _checked(entry: dict[str, Any]) -> dict[str, Any]:
    assert_minor_units(entry)
    return {"amount": Decimal(entry["amount"]), "currency": entry["currency"]}


def measures_of(item: dict[str, Any]) -> dict[str, Any]:
    """The measures of an API item, amounts as Decimals (so `7.0` equals `7.00`)."""
    return {
        **{name: item[name] for name in COUNTS},
        **{name: [_checked(m) for m in item[name]] for name in ("proceeds", "customer_sales")},
    }
