"""Streaming a SALES/SUMMARY report into sales_rows: the real sample, odd files, atomicity."""

import datetime
import gzip
import json
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db.engine import asyncpg_connection, create_engine, create_sessionmaker
from app.main import create_app
from app.reports.ingest import COPY_NULL, Streamed, Tally, _Rows, load_report
from app.resources import app_links
from app.sales import stream
from app.sales.layout import SALES_LAYOUT, platform_sql, unit_kind_sql
from app.sales.repository import rebuild_daily_rollup
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.apple_files import SAMPLES
from tests.fixtures.engine import INSTANT_RETRY, run_unit

SAMPLE = SAMPLES / "sales_summary_daily_v1_0__kachit.tsv"
DAY = "2020-10-05"


def _apple(body_for: Callable[[httpx.Request], bytes | None]) -> httpx.MockTransport:
    """Apple at the HTTP boundary: /v1/apps lists nothing, salesReports serves ``body_for``."""

    def handle(request: httpx.Request) -> httpx.Response:
        headers = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3500;"}
        if request.url.path == "/v1/salesReports":
            body = body_for(request)
            if body is None:
                return httpx.Response(
                    404,
                    json={
                        "errors": [
                            {
                                "status": "404",
                                "code": "NOT_FOUND",
                                "title": "x",
                                "detail": "There were no sales for the date specified.",
                            }
                        ]
                    },
                    headers=headers,
                )
            return httpx.Response(
                200,
                content=body,
                headers={
                    **headers,
                    "Content-Type": "application/a-gzip",
                    "Content-Encoding": "agzip",
                    "x-reports-download-version": "1_0",
                },
            )
        return httpx.Response(
            200, json={"data": [], "links": {"self": str(request.url)}}, headers=headers
        )

    return httpx.MockTransport(handle)


@pytest.fixture
def report() -> dict[str, bytes | None]:
    return {"body": gzip.compress(SAMPLE.read_bytes())}


@pytest.fixture
async def mock_app(settings: Settings, report: dict[str, bytes | None]) -> AsyncIterator[FastAPI]:
    application = create_app(
        settings, asc_transport=_apple(lambda _: report["body"]), asc_retry=INSTANT_RETRY
    )
    async with application.router.lifespan_context(application):
        yield application


async def _account(app: FastAPI, tenant: Tenant, sandbox: SandboxState) -> uuid.UUID:
    key = sandbox.add_key("acme")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await link(c, tenant, key, verify=False)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _rows(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch("SELECT * FROM sales_rows ORDER BY id")


async def test_real_sample_parses_row_for_row(
    mock_app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    account_id = await _account(mock_app, tenant, sandbox)
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    rows = await _rows(db)
    assert len(rows) == 46
    first = rows[0]
    assert first["product_type"] == "IAY"
    assert first["unit_kind"] == "subscription"
    assert first["units"] == Decimal("12")
    assert first["developer_proceeds"] == Decimal("209.30")
    assert first["customer_price"] == Decimal("299.00")
    assert (first["customer_currency"], first["proceeds_currency"]) == ("RUB", "RUB")
    assert str(first["begin_date"]) == DAY
    assert first["developer"] is None  # a single-space cell is no value
    assert first["version"] is None
    assert first["period"] == "7 Days"
    assert first["subscription"] == "Renewal"
    assert first["preserved_pricing"] == "Yes"
    assert first["platform"] == "IOS"
    assert json.loads(first["extra"]) == {}
    # Row 5 of the file: a first-time download whose Currency of Proceeds is empty.
    assert rows[3]["unit_kind"] == "first_time_download"
    assert rows[3]["proceeds_currency"] is None
    # The partial refund: 0 units, negative customer price, positive proceeds — kept as is.
    partial = rows[19]
    assert (partial["units"], partial["customer_price"], partial["developer_proceeds"]) == (
        Decimal("0"),
        Decimal("-85.43"),
        Decimal("59.80"),
    )
    kinds = {row["unit_kind"] for row in rows}
    assert kinds == {"subscription", "redownload", "first_time_download", "update"}
    availability = await db.fetchrow("SELECT * FROM dataset_availability")
    assert (availability["state"], availability["row_count"]) == ("published", 46)
    assert availability["report_version"] == "1_0"


def _tsv(header: list[str], rows: list[list[str]], newline: str = "\n") -> bytes:
    lines = ["\t".join(header)] + ["\t".join(row) for row in rows]
    return gzip.compress((newline.join(lines) + newline).encode())


def _sample_rows() -> tuple[list[str], list[list[str]]]:
    lines = SAMPLE.read_text().splitlines()
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


async def test_reordered_columns_extra_column_and_crlf(
    mock_app: FastAPI,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    report: dict[str, bytes | None],
) -> None:
    header, rows = _sample_rows()
    order = list(reversed(range(len(header))))
    shuffled_header = [header[i] for i in order] + ["Brand New Column"]
    shuffled_rows = [[row[i] for i in order] + [f"x{n}"] for n, row in enumerate(rows)]
    report["body"] = _tsv(shuffled_header, shuffled_rows, newline="\r\n")
    account_id = await _account(mock_app, tenant, sandbox)
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    loaded = await _rows(db)
    assert len(loaded) == 46
    assert loaded[0]["product_type"] == "IAY"
    assert loaded[0]["order_type"] is None  # last column, no stray \r
    assert json.loads(loaded[0]["extra"]) == {"Brand New Column": "x0"}
    assert loaded[45]["country_code"] == "LU"


async def test_empty_report_and_no_sales_day(
    mock_app: FastAPI,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    report: dict[str, bytes | None],
) -> None:
    header, _ = _sample_rows()
    report["body"] = _tsv(header, [])
    account_id = await _account(mock_app, tenant, sandbox)
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    assert await db.fetchval("SELECT count(*) FROM sales_rows") == 0
    assert await db.fetchval("SELECT state FROM dataset_availability") == "published"

    report["body"] = None  # Apple: "There were no sales for the date specified."
    await run_unit(mock_app, account_id, "sales_daily", "2020-10-06")
    states = dict(await db.fetch("SELECT report_date::text, state FROM dataset_availability"))
    assert states == {DAY: "published", "2020-10-06": "no_data"}


async def test_failed_refetch_leaves_the_previous_day_intact(
    mock_app: FastAPI,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    report: dict[str, bytes | None],
) -> None:
    account_id = await _account(mock_app, tenant, sandbox)
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    before = [dict(row) for row in await _rows(db)]
    assert len(before) == 46

    # Truncated gzip: the stream breaks after rows were already copied to staging.
    whole = gzip.compress(SAMPLE.read_bytes() * 50)
    report["body"] = whole[: len(whole) // 2]
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    assert [dict(row) for row in await _rows(db)] == before
    job = await db.fetchrow(
        "SELECT * FROM sync_jobs WHERE unit_key = $1 AND dataset = 'sales_daily'", DAY
    )
    assert job["last_error_code"] is not None
    assert "gzip" in job["last_error_message"] or "truncated" in job["last_error_message"]
    assert await db.fetchval("SELECT state FROM dataset_availability") == "published"

    # A cell PostgreSQL cannot read, on the last line: everything before it rolls back too.
    header, rows = _sample_rows()
    rows[-1][7] = "lots"
    report["body"] = _tsv(header, rows)
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    assert [dict(row) for row in await _rows(db)] == before
    message = await db.fetchval(
        "SELECT last_error_message FROM sync_jobs WHERE unit_key = $1 AND dataset = 'sales_daily'",
        DAY,
    )
    assert "cannot be read" in message


async def test_resync_replaces_the_day_without_duplicates(
    mock_app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    account_id = await _account(mock_app, tenant, sandbox)
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    first = await db.fetch("SELECT product_type, units, country_code FROM sales_rows ORDER BY id")
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    again = await db.fetch("SELECT product_type, units, country_code FROM sales_rows ORDER BY id")
    assert len(again) == 46
    assert [tuple(r) for r in again] == [tuple(r) for r in first]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM sales_daily_rollup WHERE report_date = $1::date",
            datetime.date(2020, 10, 5),
        )
        > 0
    )


def _odd_file(unknown_column: bool = False, spelled_price: bool = False) -> bytes:
    """The sample made awkward in every way a line can be: padded and backslashed cells,
    thousands separators, a short line, blank and tab-only lines, refunds, blank prices, a
    second price for one product, CRLF line ends; with ``unknown_column``, a column Orchard
    does not know at the end (kept in ``extra``: the cell-by-cell path, not the whole-chunk
    one); with ``spelled_price``, a price in exponent notation (the day's rollup is then summed
    from the stored rows, not in Python)."""
    header, rows = _sample_rows()
    rows[0][4] = "Foo\\Bar \\N \\t"
    rows[0][3] = "  FOOBAR  "
    rows[1][7], rows[1][8] = "1,234", "1,000.50"
    rows[2] = rows[2][:20]
    rows[3][15], rows[3][8] = " ", ""
    rows[4][7] = "-2"
    rows[5][15] = "301.00"  # a second price for a product and storefront
    rows[6][7], rows[6][8], rows[6][15] = "0", "", "-12.5"  # a partial refund, no proceeds
    if spelled_price:
        rows[7][15] = "1.250e1"
    if unknown_column:
        header = [*header, "Brand New Column"]
        rows = [[*row, f" x{n} "] if len(row) > 20 else row for n, row in enumerate(rows)]
    lines = ["\t".join(header), *("\t".join(row) for row in rows[:10]), "", "\t\t\t"]
    lines += ["\t".join(row) for row in rows[10:]]
    return ("\r\n".join(lines) + "\r\n").encode()


#: Every table a daily report writes, as text (so that a different scale is a difference).
_WRITTEN = (
    "sales_rows",
    "sales_daily_rollup",
    "sales_rollup_app_day",
    "sales_rollup_account_day",
    "sales_rollup_workspace_day",
    "sales_rollup_app_month",
    "sales_rollup_account_month",
)


async def _written(conn: Any) -> dict[str, list[str]]:
    found = {}
    for table in _WRITTEN:
        rows = await conn.fetch(f"SELECT CAST(to_jsonb(t) - 'id' AS text) AS r FROM {table} AS t")
        found[table] = sorted(row["r"] for row in rows)
    return found


@pytest.mark.parametrize(
    ("unknown_column", "spelled_price"),
    [(False, False), (True, False), (False, True)],
    ids=["apple_columns", "unknown_column", "spelled_price"],
)
async def test_the_streamed_load_writes_what_the_sql_path_writes(
    mock_app: FastAPI,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    report: dict[str, bytes | None],
    settings: Settings,
    unknown_column: bool,
    spelled_price: bool,
) -> None:
    """Cells cleaned in Python and typed by COPY, and the daily rollups summed on the way,
    are exactly the staging path's SQL parse and the rollups summed from the stored rows."""
    body = _odd_file(unknown_column, spelled_price)
    report["body"] = gzip.compress(body)
    account_id = await _account(mock_app, tenant, sandbox)
    # One app matched by its Apple id, one by SKU (the in-app purchases' parent).
    for apple_id, sku in (("1234567891", "other.sku"), ("555", "foo.bar.baz")):
        await db.execute(
            "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
            "VALUES ($1, $2, $3, $4, 'App', 'com.app', $5)",
            uuid.uuid4(), tenant.workspace_id, account_id, apple_id, sku,
        )  # fmt: skip
    await run_unit(mock_app, account_id, "sales_daily", DAY)
    assert await db.fetchval("SELECT state FROM dataset_availability") == "published"
    streamed = await _written(db)
    assert len(streamed["sales_rows"]) == 46
    assert sum('"app_id": null' not in row for row in streamed["sales_rows"]) > 1
    assert any("Foo\\\\Bar \\\\N \\\\t" in row for row in streamed["sales_rows"])
    assert sum('"extra": {}' not in row for row in streamed["sales_rows"]) == (
        45 if unknown_column else 0
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 97):  # lines split across chunks
            yield body[start : start + 97]

    day = datetime.date.fromisoformat(DAY)
    partition = {"account_id": account_id, "frequency": "DAILY", "report_date": day}
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            loaded = await load_report(
                session,
                chunks(),
                SALES_LAYOUT,
                table="sales_rows",
                constants={"workspace_id": tenant.workspace_id, **partition},
                replace=partition,
                derived={
                    "unit_kind": unit_kind_sql("typed.product_type"),
                    "platform": platform_sql("typed.product_type", "typed.device"),
                    "app_id": app_links.APP_ID_SQL,
                },
                joins=app_links.APP_JOINS,
            )
            assert loaded.rows == 46
            await rebuild_daily_rollup(session, account_id, day)
            assert await _written(await asyncpg_connection(session)) == streamed
            await session.rollback()
    finally:
        await engine.dispose()


async def test_a_file_copied_as_written_sums_its_rollup_in_python_blank_cells_as_nulls() -> None:
    """Apple's own columns are COPYed as written, an empty cell being the COPY's NULL: a blank
    price is then no price (the day is still summed in Python, not handed to SQL as a
    spelling Python cannot read), and a blank grouping cell goes into the daily rollup's
    COPY as its NULL (``\\N``), never as an empty text."""
    header, rows = _sample_rows()
    at = {name: n for n, name in enumerate(header)}
    rows[0][at["Device"]] = " "
    rows[1][at["Customer Price"]] = ""
    tally = Tally(keys=stream.TALLY_KEYS, count="units")

    def derive(cells: tuple[bytes | None, ...]) -> tuple[str | None, ...]:
        return ("download", "iOS", None)

    streamed = Streamed(columns=stream.COLUMNS, inputs=stream.INPUTS, derive=derive, tally=tally)
    cleaned = _Rows(SALES_LAYOUT, header, {"day": DAY}, streamed, footer=True, extra=True)
    assert cleaned.fast

    async def body() -> AsyncIterator[bytes]:
        yield ("\n".join("\t".join(row) for row in rows) + "\n").encode()

    lines = b"".join([chunk async for chunk in cleaned.lines(body())])
    assert b"\\N" not in lines  # empty cells stay empty: the COPY reads them as NULL
    groups = stream._daily_rollup(tally, derive, {})
    assert groups is not None
    cells = [group.split(b"\t") for group in groups]
    assert all(b"" not in group for group in cells)
    device = 5  # the group's columns: app, Apple id, Apple identifier, SKU, storefront, device…
    assert [group[device] for group in cells].count(COPY_NULL) == 1
