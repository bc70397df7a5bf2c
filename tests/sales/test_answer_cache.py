"""Repeated sales answers are kept (``app.kit.response_cache``) and never served stale: a new
day ingested, a day replaced or an account unlinked changes the answer at once, and one
workspace never gets another's answer."""

from __future__ import annotations

import gzip
from decimal import Decimal
from typing import Any

from httpx import Response
from sqlalchemy import text

from app.kit.response_cache import ResponseCache
from app.sales import converted_items
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import run_unit
from tests.sales.helpers import row, tsv
from tests.sales.world import A, World
from tests.security.test_statement_count import recorded_statements, route_work

CENT = Decimal("0.01")
RANGE = {"from": "2024-03-04", "to": "2024-03-14", "group_by": "country"}
NEW_DAY = "2024-03-12"
NEW_LINES = [
    row(type="1", units="9", proceeds="0.70", price="0.99", currency="USD", country="NZ",
        apple_id=A, sku="app.a", device="iPhone"),
]  # fmt: skip


def cache(world: World) -> ResponseCache:
    kept: ResponseCache = world.app.state.response_cache
    return kept


async def uncached(world: World, path: str, **params: Any) -> dict[str, Any]:
    """What the route answers with nothing kept (the cache emptied first)."""
    cache(world).clear()
    response = await world.get(path, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def asked_twice(world: World, path: str, **params: Any) -> tuple[Response, Response]:
    """The route's answer, then the same request again: served from the cache, the same bytes
    and ETag."""
    first = await world.get(path, **params)
    assert first.status_code == 200, first.text
    hits = cache(world).hits
    again = await world.get(path, **params)
    assert cache(world).hits == hits + 1  # served from the cache
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    return first, again


async def test_a_repeated_answer_is_kept_and_revalidates(world: World) -> None:
    first, again = await asked_twice(world, "/v1/sales", **RANGE)
    assert "Authorization" in again.headers["vary"]
    not_modified = await world.http.get(
        "/v1/sales",
        params=RANGE,
        headers={**world.tenant.headers(), "If-None-Match": first.headers["etag"]},
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    # gzip, once compressed, is the same bytes the client decodes into the same answer.
    zipped = await world.http.get(
        "/v1/sales", params=RANGE, headers={**world.tenant.headers(), "Accept-Encoding": "gzip"}
    )
    assert zipped.json() == first.json()


async def test_a_new_day_is_never_hidden_by_a_kept_answer(world: World) -> None:
    before = await world.sales(**RANGE)
    assert await world.sales(**RANGE) == before  # kept
    assert not any(i["group"]["country"] == "NZ" for i in before["items"])

    world.apple.reports[NEW_DAY] = tsv(NEW_LINES, NEW_DAY)
    await run_unit(world.app, world.account, "sales_daily", NEW_DAY)

    after = await world.sales(**RANGE)
    assert after != before
    new = [i for i in after["items"] if i["period_start"] == NEW_DAY]
    assert [(i["group"], i["first_time_downloads"]) for i in new] == [({"country": "NZ"}, 9)]
    assert after == await uncached(world, "/v1/sales", **RANGE)


async def test_a_replaced_day_and_an_app_card_are_never_stale(world: World) -> None:
    card = f"/v1/apps/{world.app_a}/sales/summary"
    span = {"from": "2024-03-04", "to": "2024-03-06"}
    before_sales = await world.sales(**span)
    before_card = (await world.get(card, **span)).json()
    assert (await world.get(card, **span)).json() == before_card  # kept

    # Apple's file for 03-05 comes again with other lines: the day is replaced.
    world.apple.reports["2024-03-05"] = tsv(NEW_LINES, "2024-03-05")
    await run_unit(world.app, world.account, "sales_daily", "2024-03-05")

    after_sales = await world.sales(**span)
    after_card = (await world.get(card, **span)).json()
    assert after_sales != before_sales and after_card != before_card
    day = next(d for d in after_card["series"] if d["report_date"] == "2024-03-05")
    assert day["first_time_downloads"] == 9
    assert after_sales == await uncached(world, "/v1/sales", **span)
    assert after_card == await uncached(world, card, **span)


async def test_an_unlinked_account_changes_the_incomplete_dates_at_once(world: World) -> None:
    before = await world.sales(**RANGE)
    assert any(d["account_id"] == str(world.other_account) for d in before["incomplete_dates"])
    response = await world.http.delete(
        f"/v1/accounts/{world.other_account}", headers=world.tenant.headers()
    )
    assert response.status_code in (200, 202, 204), response.text
    after = await world.sales(**RANGE)
    assert after == await uncached(world, "/v1/sales", **RANGE)
    assert after != before


async def test_another_workspace_never_gets_a_kept_answer(
    world: World, other_tenant: Tenant
) -> None:
    mine = await world.sales(**RANGE)
    assert mine["items"]
    theirs = await world.http.get("/v1/sales", params=RANGE, headers=other_tenant.headers())
    assert theirs.status_code == 200
    assert theirs.json()["items"] == []
    assert theirs.headers["etag"] != (await world.get("/v1/sales", **RANGE)).headers["etag"]


async def upload_usd_rates(world: World, per_euro: str, *days: str) -> None:
    """A manual upload: 1 EUR = ``per_euro`` USD on each of ``days``."""
    rates = [{"date": d, "base": "EUR", "quote": "USD", "rate": per_euro} for d in days]
    upload = await world.http.put(
        "/v1/fx/rates", json={"rates": rates}, headers=world.tenant.headers()
    )
    assert upload.status_code == 200, upload.text


RATE_DAYS = [f"2024-03-{d:02d}" for d in range(1, 15)]


def _converted_usd(body: dict[str, Any], day: str) -> str:
    """The converted amount of the US storefront's USD proceeds on ``day``."""
    (item,) = [
        i for i in body["items"] if i["period_start"] == day and i["group"] == {"country": "US"}
    ]
    (usd,) = [m for m in item["proceeds"] if m["currency"] == "USD"]
    amount: str = usd["converted"]["amount"]
    return amount


async def test_a_converted_answer_is_kept_under_its_rates(world: World) -> None:
    """An answer in a reporting currency is kept like a plain one, under its currency and
    the version of the stored rates: a rate uploaded (or published) later changes the very
    next answer, and another currency, or none, never gets it."""
    await upload_usd_rates(world, "1.25", *RATE_DAYS)
    converted = {**RANGE, "currency": "EUR"}
    first, _ = await asked_twice(world, "/v1/sales", **converted)
    body = first.json()
    assert body["currency"] == "EUR"
    day = "2024-03-05"
    plain_usd = next(
        Decimal(m["amount"])
        for i in body["items"]
        if i["period_start"] == day and i["group"] == {"country": "US"}
        for m in i["proceeds"]
        if m["currency"] == "USD"
    )
    assert _converted_usd(body, day) == str((plain_usd / Decimal("1.25")).quantize(CENT))

    # Another currency and no currency are other answers, not this one.
    in_gbp = await world.get("/v1/sales", **RANGE, currency="GBP")
    plain = await world.get("/v1/sales", **RANGE)
    assert in_gbp.json()["currency"] == "GBP" and plain.json()["currency"] is None
    assert len({first.headers["etag"], in_gbp.headers["etag"], plain.headers["etag"]}) == 3

    # A new rate for one day: the next answer converts that day at it, and is what the route
    # answers with nothing kept.
    await upload_usd_rates(world, "1.60", day)
    after = await world.sales(**converted)
    assert _converted_usd(after, day) == str((plain_usd / Decimal("1.60")).quantize(CENT))
    assert _converted_usd(after, "2024-03-04") == _converted_usd(body, "2024-03-04")
    assert after == await uncached(world, "/v1/sales", **converted)


async def test_a_converted_app_card_is_kept_and_follows_its_rates(world: World) -> None:
    card = f"/v1/apps/{world.app_a}/sales/summary"
    span = {"from": "2024-03-04", "to": "2024-03-06", "currency": "EUR"}
    await upload_usd_rates(world, "1.25", *RATE_DAYS)
    before = (await asked_twice(world, card, **span))[0].json()
    total = before["totals"]["proceeds_total_converted"]
    assert total["currency"] == "EUR"

    await upload_usd_rates(world, "2.50", *RATE_DAYS)
    after = (await world.get(card, **span)).json()
    # Twice as many dollars to the euro: the converted dollars halve (other currencies have
    # no rate here and stay unconverted).
    assert Decimal(after["totals"]["proceeds_total_converted"]["amount"]) < Decimal(total["amount"])
    assert after == await uncached(world, card, **span)


async def test_rates_without_a_version_are_not_kept(world: World) -> None:
    """Without its version row (a hand-made database, a failed restore) a rate written later
    could not be told apart: converted answers are then built on every request. The next rate
    written brings the row back (``migrations/…17_fx_version``), and answers are kept again."""
    await upload_usd_rates(world, "1.25", *RATE_DAYS)
    async with world.app.state.sessionmaker() as session, session.begin():
        await session.execute(text("DELETE FROM fx_data_version"))
    converted = {**RANGE, "currency": "EUR"}
    await world.sales(**RANGE)  # a plain answer is still kept (and the cache made)
    entries, hits = len(cache(world)), cache(world).hits
    first = await world.sales(**converted)
    assert await world.sales(**converted) == first
    assert (len(cache(world)), cache(world).hits) == (entries, hits)

    await upload_usd_rates(world, "1.60", "2024-03-05")
    after = await world.sales(**converted)
    assert _converted_usd(after, "2024-03-05") != _converted_usd(first, "2024-03-05")
    assert len(cache(world)) == entries + 1


async def test_the_workspace_default_currency_is_part_of_a_kept_answer(world: World) -> None:
    """Without ``currency=``, the workspace's default decides the answer: setting or unsetting
    it never serves the answer kept for the other."""
    await upload_usd_rates(world, "1.25", *RATE_DAYS)
    plain = await world.sales(**RANGE)
    assert plain["currency"] is None

    async def default(currency: str | None) -> None:
        response = await world.http.patch(
            "/v1/fx/settings", json={"reporting_currency": currency}, headers=world.tenant.headers()
        )
        assert response.status_code == 200, response.text

    await default("EUR")
    in_eur = await world.sales(**RANGE)
    assert in_eur["currency"] == "EUR"
    assert in_eur == await world.sales(**RANGE, currency="EUR")
    await default(None)
    assert await world.sales(**RANGE) == plain


async def test_gzip_is_of_the_json_body(world: World) -> None:
    plain = await world.http.get(
        "/v1/sales", params=RANGE, headers={**world.tenant.headers(), "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert len(plain.content) >= 1024  # big enough to be compressed
    zipped = await world.http.get(
        "/v1/sales", params=RANGE, headers={**world.tenant.headers(), "Accept-Encoding": "gzip"}
    )
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.content == plain.content  # httpx decoded it
    assert zipped.headers["etag"] == plain.headers["etag"]
    (entry,) = [e for e in cache(world)._entries.values() if e.body == plain.content]
    assert entry.gzipped is not None and gzip.decompress(entry.gzipped) == plain.content


async def test_off_when_configured(world: World) -> None:
    await world.get("/v1/sales", **RANGE)
    cache(world).max_bytes = 0
    cache(world).clear()
    first = await world.get("/v1/sales", **RANGE)
    second = await world.get("/v1/sales", **RANGE)
    assert first.content == second.content
    assert len(cache(world)) == 0


async def test_answers_from_the_per_dimension_rollup_are_not_kept(world: World) -> None:
    await world.get("/v1/sales", **RANGE)
    entries = len(cache(world))
    by_device = {**RANGE, "group_by": "device"}
    assert (await world.get("/v1/sales", **by_device)).status_code == 200
    assert len(cache(world)) == entries


async def test_a_converted_day_report_reads_the_kept_converted_items(world: World) -> None:
    """With the worker's converted items current (``app.sales.converted_items``), the whole
    workspace's day report by storefront in the reporting currency reads them: the route's
    first statement finds them current, and its page reads them alone, without binding the
    rates a written page needs. Built or kept, the answer is the one written before."""
    await upload_usd_rates(world, "1.25", *RATE_DAYS)
    converted = {**RANGE, "currency": "EUR"}
    await world.sales(**RANGE)  # (the cache is made by a first request)
    written = await uncached(world, "/v1/sales", **converted)
    settings = await world.http.patch(
        "/v1/fx/settings", json={"reporting_currency": "EUR"}, headers=world.tenant.headers()
    )
    assert settings.status_code == 200, settings.text
    max_age = world.app.state.settings.fx_max_rate_age_days
    kept = await converted_items.keep_all(world.app.state.sessionmaker, max_age)
    assert kept.get(world.tenant.workspace_id)

    size = cache(world).max_bytes
    for max_bytes in (0, size):  # the cache off (``ORCHARD_RESPONSE_CACHE_MB=0``), then a miss
        cache(world).max_bytes = max_bytes
        cache(world).clear()
        with recorded_statements(world.app) as statements:
            assert await world.sales(**converted) == written
        work = route_work(statements)
        assert len(work) == 2, work
        assert "sales_items_workspace_day_converted" in work[1]
        assert "jsonb" not in work[1]  # the written page's rate table (``in_sql.rates_cte``)
