"""Hostile input, generated over every operation: a clean 4xx problem, nothing stored, no 500.

Each test checks every table's rows before and after (``changed_tables``), so "nothing stored"
is checked on the whole database, and every answer is checked for stack-trace text and
secrets. Requests use the owner's token and the owner's real objects, so hostile values reach
the handlers and their SQL rather than stopping at a 404.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from app.kit import nul
from tests.fixtures.accounts import link_body
from tests.secrets_guard import scan
from tests.security.operations import BODIES, Operation, Parameter, operations, value_for
from tests.security.world import World, changed_tables, database_state

#: Text that only appears in a body when an exception or a driver error leaked into it.
STACK_MARKERS = (
    "Traceback (most recent call last)",
    'File "/',
    "site-packages",
    "sqlalchemy",
    "asyncpg",
    "DBAPIError",
    "psycopg",
)
SQL_STRINGS = (
    "' OR '1'='1",
    "'; DROP TABLE apps; --",
    "1) OR (SELECT pg_sleep(3)) IS NULL --",
    "%' UNION SELECT token_hash, NULL FROM api_tokens --",
    "\\'\"`;/*",
    "a\x00b",  # PostgreSQL text cannot hold NUL: it must be refused, not crash the driver
)
#: Any answer slower than this means hostile input made the database (or a loop) work hard.
ANSWER_WITHIN_SECONDS = 5.0

WITH_BODY = [op for op in operations() if op.has_body]
READS = [op for op in operations() if op.is_read and op.authenticated]


def assert_clean(response: httpx.Response, *, refused: bool = True) -> None:
    """No 500; a refusal is a problem document; nothing internal or secret in the body."""
    described = f"{response.request.method} {response.request.url} → {response.status_code}"
    assert response.status_code < 500, f"{described}: {response.text[:400]}"
    if refused:
        assert 400 <= response.status_code < 500, f"{described} was accepted: {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), described
        problem = response.json()
        assert problem["status"] == response.status_code
        assert {"type", "title", "detail"} <= set(problem)
    for marker in STACK_MARKERS:
        assert marker not in response.text, f"{described} shows internals ({marker!r})"
    assert not scan(response.text), f"{described} carries a secret"


@pytest.fixture
async def unchanged(world: World) -> AsyncIterator[None]:
    """Fails the test if any table's rows changed while it ran."""
    before = await database_state(world.db)
    calls = len(world.sandbox.requests)
    yield
    changed = await changed_tables(world.db, before)
    assert not changed, f"hostile input changed tables {changed}"
    assert len(world.sandbox.requests) == calls, "hostile input reached App Store Connect"


async def request(world: World, operation: Operation, **kwargs: Any) -> httpx.Response:
    """Call ``operation`` as the owner, on the owner's real objects, within a time limit."""
    url = await owned_url(world, operation)
    headers = {**world.victim.headers(), **kwargs.pop("headers", {})}
    async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
        return await world.client.request(operation.method, url, headers=headers, **kwargs)


async def owned_url(world: World, operation: Operation) -> str:
    if not operation.is_read:
        # Writes target objects that do not exist: the input is still validated first, and a
        # write that slipped through cannot damage the shared world.
        return operation.path.format(**{p.name: uuid.uuid4() for p in operation.path_params})
    values = {
        p.name: await value_for(world.db, world.victim.workspace_id, operation, p)
        for p in operation.path_params
    }
    return operation.path.format(**values)


async def required_query(world: World, operation: Operation) -> dict[str, str]:
    return {
        p.name: await value_for(world.db, world.victim.workspace_id, operation, p)
        for p in operation.query_params
        if p.required
    }


# -- bodies ------------------------------------------------------------------------------------


def json_headers(world: World) -> dict[str, str]:
    return {"content-type": "application/json"}


@pytest.mark.usefixtures("unchanged")
async def test_oversized_bodies_get_413(world: World) -> None:
    limit = world.app.state.settings.max_body_bytes
    big = b'{"name": "' + b"x" * limit + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    for operation in WITH_BODY:
        declared = await request(world, operation, content=big, headers=json_headers(world))
        assert declared.status_code == 413, f"{operation}: {declared.status_code}"
        assert_clean(declared)
        # No Content-Length: the limit must hold while the body streams in.
        streamed = await request(world, operation, content=chunks(), headers=json_headers(world))
        assert streamed.status_code == 413, f"{operation} (chunked): {streamed.status_code}"
        assert_clean(streamed)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 10_000 + b"]" * 10_000, id="10000-nested-arrays"),
        pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="10000-nested-objects"),
        pytest.param(b'{"name": "\xff\xfe\xc3\x28", "scopes": ["read"]}', id="invalid-utf8"),
        pytest.param(b'{"name": "caf\xe9"}', id="latin1-not-utf8"),
        pytest.param(b"\xef\xbb\xbf{}", id="utf8-bom"),
        pytest.param(b'{"name": "a", "name": "b", ', id="truncated"),
        pytest.param(b"\x00" * 64, id="nul-bytes"),
        pytest.param(b'{"name": 1e999999}', id="huge-number"),
    ],
)
async def test_malformed_bodies_get_4xx(world: World, body: bytes) -> None:
    for operation in WITH_BODY:
        response = await request(world, operation, content=body, headers=json_headers(world))
        assert_clean(response)


def _with_nul(document: Any) -> Any:
    if isinstance(document, str):
        return f"x\x00{document}"
    if isinstance(document, list):
        return [_with_nul(item) for item in document]
    if isinstance(document, dict):
        return {key: _with_nul(value) for key, value in document.items()}
    return document


@pytest.mark.usefixtures("unchanged")
async def test_nul_characters_in_bodies_are_refused(world: World) -> None:
    """PostgreSQL text cannot hold U+0000: a valid-looking body carrying one is a 4xx."""
    key = world.sandbox.add_key(world.sandbox.add_team("Nul Team", apps=1))
    bodies = {**BODIES, "link_account": link_body(key, name="Nul\x00Team")}
    for operation in WITH_BODY:
        # The owner's real objects, so the write would really happen if the NUL got through.
        values = {
            p.name: await value_for(world.db, world.victim.workspace_id, operation, p)
            for p in operation.path_params
        }
        url = operation.path.format(**values)
        body = bodies[operation.operation_id]
        if operation.operation_id != "link_account":
            body = _with_nul(body)
        async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
            response = await world.client.request(
                operation.method,
                url,
                json=body,
                params={"verify": "false"} if operation.operation_id == "link_account" else None,
                headers=world.victim.headers(),
            )
        assert_clean(response)
        assert response.status_code == 422, f"{operation}: {response.status_code}"
        assert response.json()["errors"][0]["type"] == "nul_character"


# -- private keys ------------------------------------------------------------------------------


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _hostile_keys() -> Iterator[tuple[str, str]]:
    yield "rsa-2048", _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    yield "ec-p384", _pem(ec.generate_private_key(ec.SECP384R1()))
    yield "ed25519", _pem(ed25519.Ed25519PrivateKey.generate())
    for name, size in (("pem-of-1mb", 700_000), ("pem-over-the-body-limit", 900_000)):
        # 700 kB of DER is ~0.95 MB of PEM (under the body limit: refused as a field, 422);
        # 900 kB is ~1.2 MB (over it: refused before it is read, 413).
        filler = base64.b64encode(b"\x30" * size).decode()
        lines = "\n".join(filler[i : i + 64] for i in range(0, len(filler), 64))
        yield name, f"-----BEGIN PRIVATE KEY-----\n{lines}\n-----END PRIVATE KEY-----\n"
    yield "armour-only", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----"
    yield "not-base64", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----"
    yield "certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


@pytest.mark.usefixtures("unchanged")
async def test_keys_that_are_not_p256_are_refused_and_never_echoed(world: World) -> None:
    accounts = [op for op in operations() if op.operation_id == "link_account"]
    assert accounts, "POST /v1/accounts moved: update this test"
    key = world.sandbox.add_key(world.sandbox.add_team("Hostile Keys", apps=1))
    for name, pem in _hostile_keys():
        for verify in ("true", "false"):
            body = link_body(key, private_key=pem)
            async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
                response = await world.client.post(
                    "/v1/accounts",
                    json=body,
                    params={"verify": verify},
                    headers=world.victim.headers(),
                )
            expected = 413 if name == "pem-over-the-body-limit" else 422
            assert response.status_code == expected, f"{name}: {response.status_code}"
            assert_clean(response)
            body_lines = [line for line in pem.splitlines()[1:-1] if len(line) > 16][:20]
            assert not any(line in response.text for line in body_lines), f"{name} was echoed"


# -- query parameters --------------------------------------------------------------------------


def _text_parameters() -> list[tuple[Operation, Parameter]]:
    return [(op, p) for op in operations() for p in op.query_params if p.takes_text]


@pytest.mark.usefixtures("unchanged")
async def test_sql_looking_strings_in_every_text_parameter(world: World) -> None:
    pairs = _text_parameters()
    assert len(pairs) > 30
    for operation, parameter in pairs:
        base = await required_query(world, operation)
        for value in SQL_STRINGS:
            response = await request(world, operation, params={**base, parameter.name: value})
            # Free-text filters legitimately answer 200 (an empty list); nothing may break.
            assert_clean(response, refused=False)
            if value == "a\x00b":
                assert response.status_code == 422, f"{operation} {parameter.name}: NUL accepted"


@pytest.mark.usefixtures("unchanged")
async def test_limits_out_of_range_get_422(world: World) -> None:
    listed = [op for op in operations() if any(p.name == "limit" for p in op.query_params)]
    assert listed
    for operation in listed:
        (parameter,) = [p for p in operation.query_params if p.name == "limit"]
        cap = parameter.schema.get("maximum")
        assert isinstance(cap, int), f"{operation}: `limit` has no server-side cap"
        base = await required_query(world, operation)
        for limit in ("1" + "0" * 40, str(cap + 1), "0", "-1", "1e3", "NaN", "２"):
            response = await request(world, operation, params={**base, "limit": limit})
            assert response.status_code == 422, f"{operation} limit={limit}"
            assert_clean(response)


def _cursor(values: Any) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSOR_ELEMENTS: tuple[Any, ...] = (
    "x",
    "2026-13-45",
    "9999-12-31T23:59:59+14:00",
    -(2**70),
    None,
    True,
    {"a": 1},
    [1],
    "00000000-0000-0000-0000-00000000000g",
    "\x00",
    1.5e308,
)


async def _real_cursor(world: World, operation: Operation, base: dict[str, str]) -> list[Any]:
    """The values of a cursor the list really hands out (empty if it has one page only)."""
    response = await request(world, operation, params={**base, "limit": "1"})
    cursor = response.json().get("next_cursor") if response.status_code == 200 else None
    if not cursor:
        return []
    values: list[Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return values


@pytest.mark.usefixtures("unchanged")
async def test_forged_cursors_get_422_not_500(world: World) -> None:
    """Cursors are opaque but decodable: a real cursor with each position swapped for each
    wrong type (or, for a list with one page, cursors of every small arity)."""
    paged = [op for op in operations() if any(p.name == "cursor" for p in op.query_params)]
    assert len(paged) > 10
    generic = ["!!!", "e30", _cursor("not a list"), _cursor([]), _cursor([[[[[]]]]])]
    for operation in paged:
        base = await required_query(world, operation)
        real = await _real_cursor(world, operation, base)
        forged = list(generic)
        if real:
            for position in range(len(real)):
                for element in CURSOR_ELEMENTS:
                    forged.append(_cursor([*real[:position], element, *real[position + 1 :]]))
        else:
            for arity in range(1, 5):
                forged += [_cursor([element] * arity) for element in CURSOR_ELEMENTS]
        for cursor in forged:
            response = await request(world, operation, params={**base, "cursor": cursor})
            assert_clean(response, refused=False)


# -- date ranges -------------------------------------------------------------------------------

RANGE_PAIRS = (("from", "to"), ("from_period", "to_period"))


def _ranged() -> list[tuple[Operation, Parameter, Parameter]]:
    found = []
    for operation in operations():
        by_name = {p.name: p for p in operation.query_params}
        for start, end in RANGE_PAIRS:
            if start in by_name and end in by_name:
                found.append((operation, by_name[start], by_name[end]))
    return found


def _day(parameter: Parameter, day: str, *, offset: str = "Z") -> str:
    if "date-time" in parameter.formats:
        return f"{day}T00:00:00{offset}"
    if parameter.name.endswith("_period"):
        return day[:7]
    return day


@pytest.mark.usefixtures("unchanged")
async def test_inverted_ranges_get_422(world: World) -> None:
    ranged = _ranged()
    assert len(ranged) >= 6
    for operation, start, end in ranged:
        base = await required_query(world, operation)
        params = {**base, start.name: _day(start, "2026-05-01"), end.name: _day(end, "2026-01-01")}
        response = await request(world, operation, params=params)
        assert response.status_code == 422, f"{operation}: {response.status_code}"
        assert_clean(response)


#: Days at and near the calendar's edges: date arithmetic (a day before, a week after, a time
#: zone away) overflows there, and asyncpg sends 0001-01-01 and 9999-12-31 as ±infinity.
EDGE_DAYS = ("0001-01-01", "0001-01-02", "1899-12-31", "9999-12-30", "9999-12-31")


@pytest.mark.usefixtures("unchanged")
async def test_dates_at_the_calendar_edges_get_4xx_quickly(world: World) -> None:
    dated = [
        (op, p)
        for op in operations()
        for p in op.query_params
        if p.formats & {"date", "date-time"} or p.name in ("from", "to", "from_period", "to_period")
    ]
    assert len(dated) >= 10
    for operation, parameter in dated:
        base = await required_query(world, operation)
        partner = {
            "from": "to",
            "to": "from",
            "from_period": "to_period",
            "to_period": "from_period",
        }
        for day in EDGE_DAYS:
            for offset in ("Z", "+14:00", "-12:00"):
                params = {**base, parameter.name: _day(parameter, day, offset=offset)}
                other = partner.get(parameter.name)
                if other in base or other in {p.name for p in operation.query_params}:
                    # Both ends at the edge: a one-day range, the smallest the API allows.
                    params[other] = _day(parameter, day, offset=offset)
                response = await request(world, operation, params=params)
                assert response.status_code == 422, (
                    f"{operation} {parameter.name}={params[parameter.name]}: "
                    f"{response.status_code} {response.text[:200]}"
                )
                assert_clean(response)


@pytest.mark.usefixtures("unchanged")
async def test_ranges_beyond_the_maximum_get_422(world: World) -> None:
    """Ranges that make work (buckets, report days, months) are capped; filters are not."""
    for operation, start, end in _ranged():
        base = await required_query(world, operation)
        params = {**base, start.name: _day(start, "2001-01-01"), end.name: _day(end, "2026-01-01")}
        response = await request(world, operation, params=params)
        assert_clean(response, refused=False)
        if response.status_code == 200:
            # Allowed only where the range just filters rows that exist (no per-day output).
            assert operation.operation_id in UNCAPPED_FILTERS, (
                f"{operation} accepted a 25-year range: cap it or list it in UNCAPPED_FILTERS"
            )


#: Operations whose date range only filters stored rows (no per-day or per-bucket output), so
#: a long range costs nothing extra.
UNCAPPED_FILTERS = frozenset(
    {
        "list_reviews",
        "get_app_ratings",
        "list_sales_rows",
        "list_pre_orders",
        "list_offer_code_redemptions",
        "list_win_back_eligibility",
        "list_app_beta_feedback",
    }
)


@pytest.mark.parametrize(
    ("body", "has_nul"),
    [
        (rb'{"a": "x\u0000y"}', True),
        (rb'{"a": "\\\u0000"}', True),  # an escaped backslash, then a NUL
        (rb'{"a": "\\u0000"}', False),  # the literal text \u0000
        (rb'{"a": "\\\\u0000"}', False),
        (rb'{"a": "u0000"}', False),
        (rb'{"a": "\u00000"}', True),
    ],
)
def test_nul_escapes_are_told_from_literal_text(body: bytes, has_nul: bool) -> None:
    assert nul.in_json(body) is has_nul
    assert (json.loads(body)["a"].count("\x00") > 0) is has_nul  # agrees with a JSON parser


@pytest.mark.usefixtures("unchanged")
async def test_dates_are_iso_8601_not_unix_times(world: World) -> None:
    """The spec says ISO 8601; a number must not be read as seconds (or ms) since 1970."""
    dated = [
        (op, p) for op in operations() for p in op.query_params if p.formats & {"date", "date-time"}
    ]
    assert len(dated) >= 8
    for operation, parameter in dated:
        base = await required_query(world, operation)
        for number in ("1099511627776", "1700000000", "0"):
            response = await request(world, operation, params={**base, parameter.name: number})
            assert response.status_code == 422, f"{operation} {parameter.name}={number}"
            assert_clean(response)
