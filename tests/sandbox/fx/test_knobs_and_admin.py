"""Failure knobs, the request log and the ``/sandbox`` admin surface."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import httpx
import pytest

from app.sandbox.fx import FxState, server
from tests.sandbox.fx.conftest import FakeClock
from tests.sandbox.fx.helpers import parse_ecb_xml

DAILY = "/stats/eurofxref/eurofxref-daily.xml"


@pytest.mark.parametrize("kind", ["500", "502", "503", "404"])
async def test_next_requests_fail_then_recover(
    client: httpx.AsyncClient, state: FxState, kind: str
) -> None:
    state.fail_next(2, kind)  # type: ignore[arg-type]
    for _ in range(2):
        failed = await client.get(DAILY)
        assert failed.status_code == int(kind) and "text/html" in failed.headers["content-type"]
    assert (await client.get(DAILY)).status_code == 200
    assert [r.status for r in state.requests] == [int(kind), int(kind), 200]
    assert [r.failure for r in state.requests] == [kind, kind, None]


async def test_timeout_and_reset_raise_the_client_errors(
    client: httpx.AsyncClient, state: FxState
) -> None:
    state.fail_next(1, "timeout")
    with pytest.raises(httpx.ReadTimeout):
        await client.get(DAILY)
    state.fail_next(1, "reset")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/v1/latest")
    assert (await client.get(DAILY)).status_code == 200


async def test_failures_only_hit_their_path_prefix(
    client: httpx.AsyncClient, state: FxState
) -> None:
    state.fail_next(1, "503", path_prefix="/v2/")
    assert (await client.get(DAILY)).status_code == 200
    assert (await client.get("/v1/latest")).status_code == 200
    assert (await client.get("/v2/rates")).status_code == 503
    assert (await client.get("/v2/rates")).status_code == 200


def test_knob_validation(state: FxState) -> None:
    with pytest.raises(ValueError, match="kind"):
        state.fail_next(1, "418")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        state.fail_next(0)
    with pytest.raises(ValueError, match="timezone"):
        state.set_now(datetime(2025, 1, 1))


async def test_admin_overview_and_variants(client: httpx.AsyncClient) -> None:
    overview = (await client.get("/sandbox/")).json()
    assert overview["seed"] == 7 and overview["latest_published"] == "2025-06-10"
    assert overview["variants"]["xml_quotes"] == "single"
    patched = await client.patch("/sandbox/variants", json={"xml_quotes": "double"})
    assert patched.status_code == 200 and patched.json()["xml_quotes"] == "double"
    assert '<Cube time="2025-06-10">' in (await client.get(DAILY)).text
    for bad in ({"xml_quotes": "backtick"}, {"colour": "red"}, {"v2_identity_row": "yes"}):
        response = await client.patch("/sandbox/variants", json=bad)
        assert response.status_code == 400 and "error" in response.json()


async def test_admin_knobs(client: httpx.AsyncClient, state: FxState) -> None:
    assert (await client.post("/sandbox/skip", json={"date": "2025-06-10"})).status_code == 200
    assert next(iter(parse_ecb_xml((await client.get(DAILY)).content))) == date(2025, 6, 9)
    await client.post("/sandbox/skip", json={"date": "2025-06-09", "source": "cbr"})
    assert date(2025, 6, 9) in state.knobs.skipped["CBR"]
    delayed = await client.post("/sandbox/delay", json={"date": "2025-06-09", "hours": 30})
    assert delayed.json()["delays"] == {"2025-06-09": 30.0}
    assert next(iter(parse_ecb_xml((await client.get(DAILY)).content))) == date(2025, 6, 6)
    revised = await client.post(
        "/sandbox/revise", json={"date": "2025-06-06", "currency": "gbp", "rate": "0.9"}
    )
    assert revised.json()["revisions"][0]["currency"] == "GBP"
    assert parse_ecb_xml((await client.get(DAILY)).content)[date(2025, 6, 6)]["GBP"] == "0.90000"
    failing = await client.post("/sandbox/fail", json={"count": 3, "kind": "503"})
    assert failing.json()["failures"] == [{"remaining": 3, "kind": "503", "path_prefix": "/"}]
    assert (await client.get(DAILY)).status_code == 503
    await client.delete("/sandbox/fail")
    assert (await client.get(DAILY)).status_code == 200
    for bad in (
        ("/sandbox/skip", {"date": "June"}),
        ("/sandbox/delay", {"date": "2025-06-09"}),
        ("/sandbox/fail", {"count": 1, "kind": "418"}),
        ("/sandbox/revise", {"date": "2025-06-06", "currency": "USD", "rate": "abc"}),
        ("/sandbox/clock", {"now": "2025-06-10T10:00:00"}),
    ):
        response = await client.post(bad[0], json=bad[1])
        assert response.status_code == 400, bad
    assert (await client.post("/sandbox/skip", content=b"[1]")).status_code == 400


async def test_admin_clock_truth_and_log(client: httpx.AsyncClient, state: FxState) -> None:
    moved = await client.post("/sandbox/clock", json={"now": "2025-06-10T13:00:00+00:00"})
    assert moved.json()["now"] == "2025-06-10T13:00:00+00:00"
    truth = (await client.get("/sandbox/rate?date=2025-06-10&currency=usd")).json()
    assert truth["rate"] == str(state.rate(date(2025, 6, 10), "USD"))
    assert truth["quote"]["date_used"] == "2025-06-09"  # today's fix is not out at 15:00 CEST
    assert truth["quote"]["source"] == "ecb"
    published = (await client.get("/sandbox/published?from=2025-06-05&to=2025-06-10")).json()
    assert published["dates"] == ["2025-06-05", "2025-06-06", "2025-06-09"]
    await client.get("/v1/latest?symbols=USD")
    log = (await client.get("/sandbox/requests")).json()["requests"]
    assert [(r["path"], r["query"], r["status"]) for r in log] == [
        ("/v1/latest", "symbols=USD", 200)
    ]  # admin calls are not logged
    assert (await client.delete("/sandbox/requests")).json() == {"requests": []}
    assert (await client.get("/sandbox/rate?date=x&currency=USD")).status_code == 400


async def test_index_lists_the_surfaces(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()
    assert "/stats/eurofxref/eurofxref-daily.xml" in body["ecb"]
    assert "/v2/rates" in body["frankfurter"]


def test_run_fx_server_serves_a_fresh_state(capsys: pytest.CaptureFixture[str]) -> None:
    with mock.patch("uvicorn.run") as run:
        server.main(["--port", "9100", "--seed", "5", "--history-start", "2024-01-02"])
    app = run.call_args.args[0]
    assert app.state.fx.seed == 5 and app.state.fx.history_start == date(2024, 1, 2)
    assert run.call_args.kwargs["port"] == 9100
    assert "http://127.0.0.1:9100/stats/eurofxref/eurofxref-daily.xml" in capsys.readouterr().out


def test_real_clock_by_default() -> None:
    before = datetime.now(UTC)
    assert FxState().now() - before < timedelta(seconds=5)


def test_deterministic_for_a_seed(clock: FakeClock) -> None:
    day = date(2025, 3, 3)
    one = FxState(seed=11, clock=clock, history_start=date(2025, 1, 2))
    two = FxState(seed=11, clock=clock, history_start=date(2025, 1, 2))
    other = FxState(seed=12, clock=clock, history_start=date(2025, 1, 2))
    two.rate(date(2025, 5, 30), "USD")  # asking in another order changes nothing
    assert one.rate(day, "USD") == two.rate(day, "USD") != other.rate(day, "USD")
