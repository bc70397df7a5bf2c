"""One SQL statement per subscription summary, series or events request (issue 21 item 3).

Everything such a request reads — the account or app it names (for the 404), the accounts in
scope, the workspace's reporting currency, the newest stored day, the data rows and the
availability of every report date of the span — is read by one statement: common table
expressions for the scope, the data query of ``repository`` over them, and the availability
states, each part aggregated into one JSON array (``json_agg``) of one result row. Numbers
are parsed back exactly (``Decimal``), dates from their ISO text.

The scope follows ``service.resolve_scope``: a named app's account and Apple ID filter the rows
and make the only account in scope; a named account alone is the only account; otherwise the
workspace's linked accounts. Every part also stays inside the workspace (``workspace_id``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.subscriptions import repository, series_days
from app.subscriptions.repository import EventRow, KindRow

#: One report date's MRR base in a proceeds currency and standard duration (``mrr_only``):
#: (report date, currency, duration, Σ in-MRR count × developer proceeds or None).
MrrRow = tuple[dt.date, str | None, str | None, Decimal | None]
#: One report date's precomputed MRR in a currency (``series_days``): (report date, currency,
#: amount text, rounded to the currency's minor units; zero ones included).
MrrAmount = tuple[dt.date, str, str]


@dataclass(frozen=True)
class ScopeAsk:
    """The scope a request names: its workspace, and optionally an account and an app."""

    workspace_id: uuid.UUID
    account_id: uuid.UUID | None = None
    app_id: uuid.UUID | None = None


@dataclass
class Fetched:
    """What one request's statement found."""

    account_found: bool = False
    app_found: bool = False
    app_account: uuid.UUID | None = None
    reporting_currency: str | None = None
    day: dt.date | None = None  # the summary's report date (asked, or the newest stored)
    accounts: int = 0  # accounts in scope
    kinds: list[KindRow] = field(default_factory=list)
    #: With ``mrr_only`` (not kinds): in ``repository.mrr_order``, as read.
    mrr_rows: list[MrrRow] = field(default_factory=list)
    #: With ``mrr_only`` read from ``series_days`` (instead of ``mrr_rows``): by date, currency.
    mrr_amounts: list[MrrAmount] | None = None
    events: list[EventRow] = field(default_factory=list)
    #: (date, account, stored state or None) of every (date, account) that is not a fact.
    incomplete: list[tuple[dt.date, uuid.UUID, str | None]] = field(default_factory=list)
    facts: dict[dt.date, int] = field(default_factory=dict)  # date → accounts with a fact


def scope_ctes(ask: ScopeAsk, params: dict[str, Any]) -> tuple[str, str]:
    """(the scope CTEs, the row filter over alias ``s`` or ``e`` as a format field ``{a}``)."""
    params.update(ws=ask.workspace_id, s_account=ask.account_id, s_app=ask.app_id)
    if ask.app_id is not None:
        accounts = "id IN (SELECT account_id FROM s_app)"
        rows = (
            " AND {a}.account_id = (SELECT account_id FROM s_app)"
            " AND {a}.app_apple_id = (SELECT apple_id FROM s_app)"
        )
    elif ask.account_id is not None:
        accounts = "id = CAST(:s_account AS uuid)"
        rows = " AND {a}.account_id = CAST(:s_account AS uuid)"
    else:
        accounts = "unlinked_at IS NULL"
        rows = ""
    ctes = f"""
        s_account AS (
            SELECT id FROM asc_accounts
            WHERE workspace_id = :ws AND id = CAST(:s_account AS uuid)
        ),
        s_app AS (
            SELECT account_id, apple_id FROM apps
            WHERE workspace_id = :ws AND id = CAST(:s_app AS uuid)
        ),
        s_accounts AS (SELECT id FROM asc_accounts WHERE workspace_id = :ws AND {accounts})
    """  # noqa: S608  (fixed fragments; values are bound)
    return ctes, rows


def _states_cte(dataset: str, first: str, last: str, params: dict[str, Any]) -> str:
    """Every (date, account in scope) of [first, last] with its stored availability state."""
    params["st_dataset"] = dataset
    return f"""
        states AS (
            SELECT CAST(d AS date) AS day, a.id AS account, av.state,
                   COALESCE(av.state IN ('published', 'no_data'), false) AS fact
            FROM s_accounts AS a
            CROSS JOIN generate_series({first}, {last}, interval '1 day') AS d
            LEFT JOIN dataset_availability AS av
                ON av.account_id = a.id AND av.dataset = :st_dataset
                AND av.report_date = CAST(d AS date)
        )
    """  # noqa: S608  (fixed fragments; values are bound)


_HEAD = """
    SELECT (SELECT count(*) FROM s_account), (SELECT count(*) FROM s_app),
           (SELECT account_id FROM s_app),
           (SELECT reporting_currency FROM fx_workspace_settings WHERE workspace_id = :ws),
           (SELECT count(*) FROM s_accounts),
           (SELECT CAST(json_agg(json_build_array(day, account, state) ORDER BY day, account)
                        AS text)
            FROM states WHERE NOT fact),
           (SELECT CAST(json_agg(json_build_array(day, n)) AS text)
            FROM (SELECT day, count(*) AS n FROM states WHERE fact GROUP BY day) AS f),
           {data}
"""
_DATA_JSON = "(SELECT CAST(json_agg(row_to_json(data)) AS text) FROM data)"
#: The MRR bases as one array of records (decoded by asyncpg as typed tuples: a year is
#: thousands of them, too many to parse back from JSON text), in ``repository.mrr_order``:
#: nulls last, text by code point (``COLLATE "C"`` on UTF-8: byte order is code point order).
_DATA_MRR = """
    (SELECT array_agg(ROW(report_date, currency, duration, base)
                      ORDER BY report_date, currency IS NULL, COALESCE(currency, '') COLLATE "C",
                               duration IS NULL, COALESCE(duration, '') COLLATE "C")
     FROM data)
"""
#: The precomputed amounts (``series_days``), by date and currency (code point order, as Python
#: sorts the currencies of ``MrrTotal.amounts``).
_DATA_AMOUNTS = """
    (SELECT array_agg(ROW(report_date, currency, amount)
                      ORDER BY report_date, currency COLLATE "C")
     FROM data)
"""


#: The kinds as one array of records, typed as their columns (a count series: a year is
#: thousands of kinds, cheaper decoded by asyncpg than parsed back from JSON text).
_DATA_RECORDS = """
    (SELECT array_agg(ROW(report_date, kind, currency, duration, subscription_name,
                          app_apple_id, n, proceeds, unpriced))
     FROM data)
"""


def _json(value: str | None) -> list[Any]:
    return json.loads(value, parse_float=Decimal) if value else []


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value))


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


async def _run(session: AsyncSession, sql: str, params: dict[str, Any]) -> tuple[Fetched, Any]:
    row = (await session.execute(text(sql), params)).one()
    fetched = Fetched(
        account_found=bool(row[0]),
        app_found=bool(row[1]),
        app_account=row[2],
        reporting_currency=row[3],
        accounts=int(row[4]),
        incomplete=[(_date(d), uuid.UUID(a), s) for d, a, s in _json(row[5])],
        facts={_date(d): int(n) for d, n in _json(row[6])},
    )
    return fetched, row


def _kinds(data: list[dict[str, Any]], width: int) -> list[KindRow]:
    rows = []
    for item in data:
        values = list(item.values())
        values[0] = _date(values[0])
        values[7 + width] = _decimal(values[7 + width])
        rows.append(values)
    return repository.kind_rows(rows, width)


async def snapshot_request(
    session: AsyncSession,
    ask: ScopeAsk,
    *,
    dataset: str,
    start: dt.date | None,
    end: dt.date | None,
    dimensions: list[str],
    money: bool = True,
    mrr_only: bool = False,
    series_source: str = "precomputed",
) -> Fetched:
    """The summary's or the series' snapshot request: the kinds of every report date in
    [start, end] — or, with no dates, of the one newest date stored for an account in scope
    (``Fetched.day``) — and the availability of those dates (``money``: see
    ``repository.snapshot_kinds_sql``). ``mrr_only``: the MRR instead of the kinds — the amounts
    precomputed per day (``Fetched.mrr_amounts``, ``series_days``) of one app, one account, or
    of the workspace on days when one account alone has MRR; the rollup's MRR bases
    (``Fetched.mrr_rows``) of the workspace's other days. Kinds without money or groups (a
    count series) come from ``series_days``' counts. ``series_source`` ``"rollup"`` or
    ``"raw"``: both read the snapshot rollup or the raw rows instead (for the test that proves
    them equal)."""
    params: dict[str, Any] = {"day_start": start, "day_end": end, "newest_dataset": dataset}
    scope, rows = scope_ctes(ask, params)
    newest = """
        (SELECT max(report_date) FROM dataset_availability
         WHERE dataset = :newest_dataset AND account_id IN (SELECT id FROM s_accounts)
               AND state IN ('published', 'no_data'))
    """
    span = "BETWEEN (SELECT first FROM s_day) AND (SELECT last FROM s_day)"
    if start is not None and end is not None:
        # Bound dates: the planner then knows how many days the data spans (a year of MRR
        # bases, estimated as a few rows through ``s_day``, spilled its hash to disk).
        span = "BETWEEN CAST(:day_start AS date) AND CAST(:day_end AS date)"
    by_app = ask.app_id is not None
    ready = series_source == "precomputed"
    precomputed = ready and mrr_only
    whole = precomputed and not by_app and ask.account_id is None  # the whole workspace
    source = "rollup" if ready else series_source
    counts = ready and not mrr_only and not money and not dimensions
    more = ""  # a CTE of the rollup's MRR parts, for the workspace's days of several accounts
    if precomputed:
        params["mrr_by_app"] = by_app
        where = rows.format(a="s")
        if whole:
            several = " AND s.report_date NOT IN (SELECT report_date FROM mrr_single)"
            parts = repository.snapshot_mrr_sql(ask.workspace_id, several, span, params)
            single = series_days.single_account_days_sql(span)
            more = f"mrr_single AS ({single}), parts AS ({parts}),"
            where = " AND s.report_date IN (SELECT report_date FROM mrr_single)"
        data = series_days.mrr_series_sql(ask.workspace_id, where, span, params)
    elif mrr_only:
        data = repository.snapshot_mrr_sql(
            ask.workspace_id, rows.format(a="s"), span, params, source
        )
    elif counts:
        data = series_days.kinds_series_sql(
            ask.workspace_id, rows.format(a="s"), span, by_app, params
        )
    elif not ready:
        data = repository.snapshot_kinds_sql(
            ask.workspace_id, rows.format(a="s"), span, dimensions, params, source, money=money
        )
    else:
        data = repository.snapshot_kinds_sql(
            ask.workspace_id, rows.format(a="s"), span, dimensions, params, money=money
        )
    states = _states_cte(dataset, "(SELECT first FROM s_day)", "(SELECT last FROM s_day)", params)
    head = _DATA_AMOUNTS if precomputed else _DATA_MRR if mrr_only else _DATA_JSON
    if counts:
        head = _DATA_RECORDS
    if whole:
        head += ", " + _DATA_MRR.replace("FROM data", "FROM parts")
    sql = f"""
        WITH {scope},
        s_day AS (
            SELECT COALESCE(CAST(:day_start AS date), {newest}) AS first,
                   COALESCE(CAST(:day_end AS date), {newest}) AS last
        ),
        {more}
        data AS ({data}),
        {states}
        {_HEAD.format(data=head)}, (SELECT first FROM s_day)
    """  # noqa: S608  (fixed fragments; values are bound)
    fetched, row = await _run(session, sql, params)
    if precomputed:
        fetched.mrr_amounts = [tuple(record) for record in row[7] or []]
    elif mrr_only:
        fetched.mrr_rows = [tuple(record) for record in row[7] or []]
    elif counts:
        fetched.kinds = repository.kind_rows(row[7] or [], len(dimensions))
    else:
        fetched.kinds = _kinds(_json(row[7]), len(dimensions))
    if whole:
        fetched.mrr_rows = [tuple(record) for record in row[8] or []]
    fetched.day = row[-1]
    return fetched


async def event_request(
    session: AsyncSession,
    ask: ScopeAsk,
    *,
    dataset: str,
    start: dt.date,
    end: dt.date,
    files: tuple[dt.date, dt.date],
    dimensions: list[str],
) -> Fetched:
    """The events' request: Σ quantity per (event date, event, free trial, group) of event
    dates [start, end], and the availability of the report files [files[0], files[1]]."""
    params: dict[str, Any] = {"files_first": files[0], "files_last": files[1]}
    scope, rows = scope_ctes(ask, params)
    data = repository.event_counts_sql(
        ask.workspace_id, rows.format(a="e"), start, end, dimensions, params
    )
    states = _states_cte(dataset, "CAST(:files_first AS date)", "CAST(:files_last AS date)", params)
    sql = f"""
        WITH {scope},
        data AS ({data}),
        {states}
        {_HEAD.format(data=_DATA_JSON)}
    """
    fetched, row = await _run(session, sql, params)
    width = len(dimensions)
    events = []
    for item in _json(row[7]):
        values = list(item.values())
        values[0] = _date(values[0])
        events.append(values)
    fetched.events = repository.event_rows(events, width)
    return fetched


# --- several reads in one statement (the metrics) ---------------------------------------------

#: A bound parameter in SQLAlchemy's ``text()`` (as its own compiler finds them).
_PARAM = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


def prefixed(sql: str, params: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """``sql`` and ``params`` with every parameter of ``params`` renamed ``prefix + name``, so
    several statements can be parts of one."""

    def rename(found: re.Match[str]) -> str:
        name = found.group(1)
        return f":{prefix}{name}" if name in params else found.group(0)

    return _PARAM.sub(rename, sql), {f"{prefix}{k}": v for k, v in params.items()}


class Batch:
    """Several SELECTs run as one statement, after the scope's CTEs (``scope_ctes``): each
    part's rows come back as one array of records, typed as the columns are (asyncpg decodes
    anonymous records), so each part's own row parser reads them as it reads its rows."""

    def __init__(self, ask: ScopeAsk) -> None:
        self.params: dict[str, Any] = {}
        self.ctes, _ = scope_ctes(ask, self.params)
        self.parts: list[str] = []

    def add(self, sql: str, params: dict[str, Any]) -> int:
        """Add a part; returns its index in ``run``'s results."""
        index = len(self.parts)
        sql, renamed = prefixed(sql, params, f"b{index}_")
        self.parts.append(sql)
        self.params.update(renamed)
        return index

    def add_states(self, dataset: str, first: dt.date, last: dt.date) -> int:
        """A part listing (date, account, stored state or None) of every date of
        [first, last] and account in scope that is not a fact (published or no data)."""
        sql = """
            SELECT CAST(d AS date) AS day, a.id AS account, av.state
            FROM s_accounts AS a
            CROSS JOIN generate_series(CAST(:first AS date), CAST(:last AS date),
                                       interval '1 day') AS d
            LEFT JOIN dataset_availability AS av
                ON av.account_id = a.id AND av.dataset = :dataset
                AND av.report_date = CAST(d AS date)
            WHERE av.state IS NULL OR av.state NOT IN ('published', 'no_data')
        """
        return self.add(sql, {"first": first, "last": last, "dataset": dataset})

    async def run(self, session: AsyncSession) -> tuple[Fetched, list[list[Any]]]:
        """The scope found (for the 404s) and each part's rows."""
        arrays = "".join(
            f", (SELECT array_agg(q) FROM ({part}) AS q)"  # noqa: S608  (fixed SQL)
            for part in self.parts
        )
        sql = f"""
            WITH {self.ctes}
            SELECT (SELECT count(*) FROM s_account), (SELECT count(*) FROM s_app),
                   (SELECT account_id FROM s_app), (SELECT count(*) FROM s_accounts){arrays}
        """  # noqa: S608  (the parts' fixed SQL; values are bound)
        row = (await session.execute(text(sql), self.params)).one()
        fetched = Fetched(
            account_found=bool(row[0]),
            app_found=bool(row[1]),
            app_account=row[2],
            accounts=int(row[3]),
        )
        return fetched, [list(row[4 + i] or []) for i in range(len(self.parts))]
