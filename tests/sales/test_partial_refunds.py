"""Zero-unit rows with money (FACTS §8; issue 13, item 5): unit counts unchanged, the money
exposed as ``partial_refunds`` so sales reconcile with finance."""

from __future__ import annotations

import gzip
from typing import Any

import httpx

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.apple_files import SAMPLES
from tests.fixtures.engine import run_unit
from tests.sales.helpers import FakeApple, fake_apple_app
from tests.sales.world import World

SAMPLE = SAMPLES / "sales_summary_daily_v1_0__kachit.tsv"


async def _day(http: httpx.AsyncClient, tenant: Tenant, day: str, **params: Any) -> Any:
    response = await http.get(
        "/v1/sales", params={"from": day, "to": day, **params}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    return item


async def test_the_real_sample_s_zero_unit_row_keeps_its_money(
    settings: Settings, tenant: Tenant, sandbox: SandboxState
) -> None:
    # Line 21 of the real file: IAY, Units 0, Developer Proceeds 59.80 RUB, Customer Price
    # −85.43 RUB — the only zero-unit line of the 46.
    header, *lines = SAMPLE.read_text().splitlines()
    cells = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]
    zero = [c for c in cells if c["Units"].strip() == "0"]
    assert [(c["Developer Proceeds"], c["Customer Price"]) for c in zero] == [("59.80", "-85.43")]
    apple = FakeApple()
    apple.reports["2020-10-05"] = gzip.compress(SAMPLE.read_bytes())
    async with fake_apple_app(settings, apple) as app:
        account, _ = await link_new_key(app, tenant, sandbox, "acme")
        await run_unit(app, account, "sales_daily", "2020-10-05")
        # A re-sync of the same day changes nothing.
        await run_unit(app, account, "sales_daily", "2020-10-05")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://o") as http:
            item = await _day(http, tenant, "2020-10-05")
            by_country = await _day(http, tenant, "2020-10-05", group_by="country", country="RU")
    assert item["partial_refunds"] == {
        "rows": 1,
        "proceeds": [{"amount": "-59.80", "currency": "RUB"}],
        "customer_amounts": [{"amount": "-85.43", "currency": "RUB"}],
    }
    assert by_country["partial_refunds"]["rows"] == 1
    # Unit counts are unchanged: neither a refund nor a sale.
    assert (item["refunds"], item["subscription_units"]) == (0, 142)


async def test_the_world_day_with_a_partial_refund(world: World) -> None:
    body = await world.sales(
        **{"from": "2024-03-04", "to": "2024-03-04", "account_id": world.account}
    )
    [item] = body["items"]
    # DAY1's GBP line: IAY, Units 0, proceeds 3.00, customer price −4.00.
    assert item["partial_refunds"] == {
        "rows": 1,
        "proceeds": [{"amount": "-3.00", "currency": "GBP"}],
        "customer_amounts": [{"amount": "-4.00", "currency": "GBP"}],
    }
    quiet = await world.sales(
        **{"from": "2024-03-05", "to": "2024-03-05", "account_id": world.account}
    )
    for bucket in quiet["items"]:
        assert bucket["partial_refunds"] == {"rows": 0, "proceeds": [], "customer_amounts": []}
