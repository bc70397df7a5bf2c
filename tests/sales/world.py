"""The sales test world: synthetic report lines with hand-computed totals, loaded through the
real sales_daily unit for two accounts of one workspace (Apple faked at the HTTP boundary)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.sales.schemas import SalesReport
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit
from tests.sales.helpers import FakeApple, add_app, fake_apple_app, row, tsv

# fmt: off
A, B, UNKNOWN = "1000000001", "1000000002", "9999999999"
IAP, SUB, RESTORABLE, FREE_TRIAL = "2000000001", "2000000002", "2000000003", "2000000004"

# One day with every kind of line: refunds of several kinds (negative units, positive proceeds,
# negative customer price), a partial refund with 0 units, redownloads, updates, restores, IAP,
# subscriptions, an unknown product type, JPY, a blank Currency of Proceeds with money in it,
# a Mac app and a product the catalog does not know.
DAY1 = [
    row(type="1", units="10", proceeds="0.70", price="0.99", currency="USD", country="US", apple_id=A, sku="app.a", device="iPhone"),
    row(type="1F", units="5", proceeds="0.59", price="0.99", currency="EUR", country="DE", apple_id=A, sku="app.a", device="iPad"),
    row(type="1", units="-2", proceeds="0.70", price="-0.99", currency="USD", country="US", apple_id=A, sku="app.a", device="iPhone"),
    row(type="3", units="7", proceeds="0.00", price="0.00", currency="USD", country="US", apple_id=A, sku="app.a", device="iPhone"),
    row(type="7", units="20", proceeds="0.00", price="0.00", currency="USD", proceeds_currency=" ", country="US", apple_id=A, sku="app.a", device="iPhone"),
    row(type="IA1", units="4", proceeds="84", price="120", currency="JPY", country="JP", apple_id=IAP, parent="app.a", sku="app.a.coins", device="iPhone"),
    row(type="IA1", units="-1", proceeds="84", price="-120", currency="JPY", country="JP", apple_id=IAP, parent="app.a", sku="app.a.coins", device="iPhone"),
    row(type="IAY", units="3", proceeds="5.59", price="7.99", currency="GBP", country="GB", apple_id=SUB, parent="app.a", sku="app.a.pro", device="iPhone", Subscription="New", Period="1 Month"),
    row(type="IAY", units="0", proceeds="3.00", price="-4.00", currency="GBP", country="GB", apple_id=SUB, parent="app.a", sku="app.a.pro", device="iPhone", Subscription="New", Period="1 Month"),
    row(type="IAY", units="-1", proceeds="5.59", price="-7.99", currency="GBP", country="GB", apple_id=SUB, parent="app.a", sku="app.a.pro", device="iPhone", Subscription="Renewal", Period="1 Month"),
    row(type="IA3", units="2", proceeds="0", price="0", currency="USD", country="US", apple_id=RESTORABLE, parent="app.a", sku="app.a.unlock", device="iPhone"),
    row(type="IAC", units="1", proceeds="0", price="0", currency="USD", country="CA", apple_id=FREE_TRIAL, parent="app.a", sku="app.a.free", device="iPhone"),
    row(type="F1", units="3", proceeds="6.99", price="9.99", currency="USD", country="US", apple_id=B, sku="app.b", device="Desktop"),
    row(type="F7", units="2", proceeds="0", price="0", currency="USD", country="US", apple_id=B, sku="app.b", device="Desktop"),
    row(type="F1", units="-1", proceeds="6.99", price="-9.99", currency="USD", country="US", apple_id=B, sku="app.b", device="Desktop"),
    row(type="1", units="1", proceeds="1.00", price="1.49", currency="AUD", country="AU", apple_id=UNKNOWN, sku="other.app", device="iPhone"),
    row(type="1", units="2", proceeds="0.50", price="9.00", currency="MXN", proceeds_currency=" ", country="MX", apple_id=A, sku="app.a", device="iPhone"),
]
# Worked out by hand from the lines above (not from Orchard's SQL).
DAY1_TOTALS = {
    "first_time_downloads": 10 + 5 + 3 + 1 + 2,  # refunds of downloads do not subtract
    "redownloads": 7,
    "updates": 20 + 2,
    "iap_units": 4,
    "subscription_units": 3,  # the 0-unit partial refund and the refunded renewal add nothing
    "restores": 2,
    "refunds": 2 + 1 + 1 + 1,
    "net_units": 55,  # every signed unit, the unknown IAC line included
    "proceeds": [
        {"amount": Decimal("1.00"), "currency": "AUD"},
        {"amount": Decimal("2.95"), "currency": "EUR"},
        {"amount": Decimal("11.18"), "currency": "GBP"},  # 3 × 5.59 − 1 × 5.59
        {"amount": Decimal("252"), "currency": "JPY"},  # 4 × 84 − 84
        {"amount": Decimal("19.58"), "currency": "USD"},  # 7.00 − 1.40 + 20.97 − 6.99
        {"amount": Decimal("1.00"), "currency": "XXX"},  # blank Currency of Proceeds: kept apart
    ],
    "customer_sales": [
        {"amount": Decimal("1.49"), "currency": "AUD"},
        {"amount": Decimal("4.95"), "currency": "EUR"},
        {"amount": Decimal("15.98"), "currency": "GBP"},  # 23.97 − 7.99
        {"amount": Decimal("360"), "currency": "JPY"},  # 480 − 120
        {"amount": Decimal("18.00"), "currency": "MXN"},
        {"amount": Decimal("27.90"), "currency": "USD"},  # 9.90 − 1.98 + 29.97 − 9.99
    ],
}
DAY2 = [row(type="1", units="4", proceeds="0.70", price="0.99", currency="USD", country="US", apple_id=A, sku="app.a", device="iPhone")]
DAY8 = [
    row(type="1", units="6", proceeds="0.70", price="0.99", currency="USD", country="US", apple_id=A, sku="app.a", device="iPhone"),
    row(type="F1", units="1", proceeds="6.99", price="9.99", currency="USD", country="US", apple_id=B, sku="app.b", device="Desktop"),
]
APRIL1 = [row(type="3", units="1", proceeds="0", price="0", currency="EUR", country="FR", apple_id=A, sku="app.a", device="iPhone")]
OTHER_ACCOUNT = [row(type="1", units="100", proceeds="1.00", price="1.49", currency="CHF", country="CH", apple_id="3000000001", sku="z.app", device="iPhone")]
DAYS = {
    "2024-03-04": DAY1,
    "2024-03-05": DAY2,
    "2024-03-11": DAY8,
    "2024-04-01": APRIL1,
}
# fmt: on


@dataclass
class World:
    app: FastAPI
    http: httpx.AsyncClient
    tenant: Tenant
    account: uuid.UUID
    other_account: uuid.UUID
    app_a: uuid.UUID
    app_b: uuid.UUID
    apple: FakeApple

    async def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.tenant.headers(token))

    async def sales(self, **params: Any) -> dict[str, Any]:
        response = await self.get("/v1/sales", **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        SalesReport.model_validate(body)  # the documented shape, exactly
        return body


async def build_world(
    settings: Settings, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> AsyncIterator[World]:
    apple = FakeApple()
    async with fake_apple_app(settings, apple) as app:
        account, _ = await link_new_key(app, tenant, sandbox, "acme")
        other_account, other_key = await link_new_key(app, tenant, sandbox, "initech")
        other_vendor = other_key.vendor_number
        app_a = await add_app(db, tenant, account, A, "app.a")
        app_b = await add_app(db, tenant, account, B, "app.b")
        apple.reports.update({day: tsv(lines, day) for day, lines in DAYS.items()})
        apple.reports.update({"2024-03-06": None, "2024-03-10": None, "2024-03-09": "truncated"})
        apple.reports[f"{other_vendor}/2024-03-04"] = tsv(OTHER_ACCOUNT, "2024-03-04")
        for day in [*DAYS, "2024-03-06", "2024-03-08", "2024-03-09", "2024-03-10"]:
            await run_unit(app, account, "sales_daily", day)
        await run_unit(app, other_account, "sales_daily", "2024-03-04")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as http:
            yield World(app, http, tenant, account, other_account, app_a, app_b, apple)
