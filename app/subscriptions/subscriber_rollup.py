"""Per-subscriber precomputation of the Subscriber Report, maintained in the unit's transaction.

MRR movements and Subscriber ID cohorts need, per Subscriber ID, its whole history of charges:
read from the raw SUBSCRIBER rows that is a window over every row of the app per request. These
tables hold the per-subscriber facts instead, keyed by (account, App Apple ID, Subscriber ID) —
the partition an app's request computes over — so a request reads a few thousand sums:

- ``subscriber_cohorts``: one row per Subscriber ID with a charge (a row that is not a refund):
  its first charge date and cohort month. A Subscriber ID reset (FACTS §5.5) is a new random ID,
  so a returning customer after a reset is a new row here: a new subscriber in a new cohort.
- ``subscriber_months``: per Subscriber ID and calendar month whose last day a charge (not
  refunded: no refund row of the ID whose Purchase Date is the charge's Event Date) covers
  (Event Date ≤ month end < Event Date + Standard Subscription Duration): the subscriber is
  retained that month; with the newest such charge that has proceeds, its monthly proceeds
  (MRR contribution, normalised by duration), proceeds currency and dimensions (null when no
  covering charge has proceeds).
- ``subscriber_day_proceeds``: per Subscriber ID, Event Date and proceeds currency, the
  developer proceeds of charges minus |proceeds| of refunds (revenue cohorts; per day, so a
  conversion can price each day).
- ``subscriber_mrr_movement_months``: per app, calendar month, proceeds currency and
  dimensions, the MRR movements between the ends of the previous month and of the month
  (new, reactivation, expansion, contraction, churned, closing) — summed from
  ``subscriber_months``.
  It also keeps ``holders``: the subscribers with a charge at the month's end.
- ``subscriber_mrr_changes``: per Subscriber ID, each day its MRR state (monthly proceeds,
  proceeds currency and dimensions of its newest covering charge with proceeds — the state
  the movements classify) differs from the day before's, with both states: the state at any
  day is the newest change's on or before it, and a span's movements are those of the
  subscribers with a change in it (the state before the first, after the last).
- ``subscriber_mrr_movement_spans``: per app, day or ISO week (``span``, ``start``), proceeds
  currency and dimensions, the MRR movements of that span — summed from the changes — with
  the closing stock's change per each side's group (``net``, ``held``).
- ``subscriber_mrr_month_to_date``: per app, day, proceeds currency and dimensions, the running
  sums of the month's day spans' ``net`` and ``held`` up to that day (every day of the month
  from a key's first change on, rebuilt from the day spans for the months a rebuild touches):
  a day's closing is the month end's before it plus this one row, not the days since.
- ``subscriber_cohort_months``: per app, cohort month, month and (for money) currency: the
  cohort's size, its retained subscribers and its revenue — summed from the tables above.
- ``subscriber_report_days``: which Subscriber IDs each report day's rows name, so a report day
  replaced re-derives the IDs of its old rows as well as of its new ones.
- ``subscriber_periods``: per Subscriber ID, its paid periods: its n-th charge (not refunded;
  in order of Event Date, then as stored) with the day its period ends and whether an
  (n+1)-th charge follows (renewal rate by period number; n up to ``PERIODS_KEPT``, charges
  of a known duration).
- ``subscriber_renewal_periods``: per app, cohort month, period number and end day, the
  subscribers whose n-th period ends that day and those of them renewed — summed from
  ``subscriber_periods``.

When a SUBSCRIBER report day is replaced, ``rebuild_subscribers`` (the report's ``after_load``,
after the per-day rollups) re-derives the rows of every Subscriber ID the day names (old rows
and new) from all of that ID's stored rows, then re-sums the movement months and cohorts those
IDs touch (before or after). ``rebuild_all`` derives everything from the stored rows (the
migration's backfill uses the same statements).

Rows without an App Apple ID or a Subscriber ID are in no app's request and no subscriber's
history, and are left out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: Refund rows of the Subscriber Report (FACTS §5.5): Refund = Yes, or a negative price (the
#: rule of ``rollup.REFUND``, which re-derives these rows after its own).
REFUND = "(COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0)"

#: The period a charge pays for, from Apple's Standard Subscription Duration.
SPAN = """
    CASE
      WHEN lower(dur) LIKE '%day%' THEN make_interval(days => n)
      WHEN lower(dur) LIKE '%week%' THEN make_interval(weeks => n)
      WHEN lower(dur) LIKE '%month%' THEN make_interval(months => n)
      WHEN lower(dur) LIKE '%year%' THEN make_interval(years => n)
    END
"""
#: A charge's monthly proceeds: developer proceeds × the monthly factor of its duration (as
#: the snapshot MRR: a month of 30.4375 days).
MONTHLY = """
    CASE
      WHEN n = 0 THEN NULL
      WHEN lower(dur) LIKE '%day%' THEN p * 30.4375 / n
      WHEN lower(dur) LIKE '%week%' THEN p * 30.4375 / (7 * n)
      WHEN lower(dur) LIKE '%month%' THEN p / n
      WHEN lower(dur) LIKE '%year%' THEN p / (12 * n)
    END
"""

_KEY = "account_id, app_apple_id, subscriber_id"
#: A subscriber's MRR state: monthly proceeds, proceeds currency and dimensions.
STATE = ("mrr", "currency", "g_app", "g_subscription", "g_country", "g_offer", "g_duration")
_A_STATE = ", ".join(f"a_{c}" for c in STATE)
_Z_STATE = ", ".join(f"z_{c}" for c in STATE)
#: The paid periods kept per Subscriber ID: the cohorts route asks for at most 36.
PERIODS_KEPT = 36

#: The per-subscriber rows of the Subscriber IDs whose stored rows match ``{where}`` (over
#: ``subscriber_transaction_rows``), in one statement: the rows are read once, and each
#: subscriber's facts are windows over its rows (no join: the planner cannot know how many
#: rows a list of IDs selects). A charge is refunded when a refund row of its ID names its
#: Event Date as Purchase Date: both fall in one window partition.
DERIVE = f"""
    WITH raw AS MATERIALIZED (
        SELECT id, workspace_id, account_id, app_apple_id, btrim(subscriber_id) AS sid,
               event_date AS d, purchase_date, standard_duration AS dur,
               COALESCE(NULLIF(substring(standard_duration from '\\d+'), ''), '0')::int AS n,
               {REFUND} AS r, developer_proceeds AS p, proceeds_currency AS pc,
               NULLIF(btrim(app_apple_id), '') AS g_app,
               NULLIF(btrim(subscription_apple_id), '') AS g_subscription,
               NULLIF(btrim(country), '') AS g_country,
               NULLIF(btrim(offer_name), '') AS g_offer,
               NULLIF(btrim(standard_duration), '') AS g_duration
        FROM subscriber_transaction_rows
        WHERE {{where}} AND app_apple_id IS NOT NULL
              AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
    ),
    t AS MATERIALIZED (
        SELECT raw.*,
               min(d) FILTER (WHERE NOT r)
                   OVER (PARTITION BY account_id, app_apple_id, sid) AS first,
               bool_or(r) OVER (PARTITION BY account_id, app_apple_id, sid,
                                CASE WHEN r THEN purchase_date ELSE d END) AS refunded
        FROM raw
    ),
    charge AS (
        SELECT c.*, (c.d + {SPAN})::date AS until, {MONTHLY} AS m
        FROM t AS c
        WHERE NOT c.r AND NOT c.refunded
    ),
    cover AS (
        SELECT ch.*, CAST(mo AS date) AS month
        FROM charge AS ch
        CROSS JOIN LATERAL generate_series(
            date_trunc('month', ch.d), date_trunc('month', ch.until) - interval '1 month',
            interval '1 month'
        ) AS mo
    ),
    months AS (
        INSERT INTO subscriber_months (
            workspace_id, {_KEY}, month, first_charge, cohort, mrr, proceeds_currency, g_app,
            g_subscription, g_country, g_offer, g_duration)
        SELECT DISTINCT ON (c.account_id, c.app_apple_id, c.sid, c.month)
               c.workspace_id, c.account_id, c.app_apple_id, c.sid, c.month, c.first,
               date_trunc('month', c.first)::date, c.m,
               CASE WHEN c.m IS NOT NULL THEN c.pc END,
               CASE WHEN c.m IS NOT NULL THEN c.g_app END,
               CASE WHEN c.m IS NOT NULL THEN c.g_subscription END,
               CASE WHEN c.m IS NOT NULL THEN c.g_country END,
               CASE WHEN c.m IS NOT NULL THEN c.g_offer END,
               CASE WHEN c.m IS NOT NULL THEN c.g_duration END
        FROM cover AS c
        ORDER BY c.account_id, c.app_apple_id, c.sid, c.month, c.m IS NULL, c.d DESC,
                 c.id DESC
        RETURNING 1
    ),
    live AS MATERIALIZED (
        SELECT * FROM charge WHERE m IS NOT NULL
    ),
    points AS (
        SELECT DISTINCT workspace_id, account_id, app_apple_id, sid, first, v.at
        FROM live CROSS JOIN LATERAL (VALUES (live.d), (live.until)) AS v(at)
    ),
    tops AS (
        SELECT DISTINCT ON (pt.account_id, pt.app_apple_id, pt.sid, pt.at)
               pt.*, l.m, l.pc, l.g_app, l.g_subscription, l.g_country, l.g_offer, l.g_duration
        FROM points AS pt
        LEFT JOIN live AS l
          ON l.account_id = pt.account_id AND l.app_apple_id = pt.app_apple_id
             AND l.sid = pt.sid AND l.d <= pt.at AND pt.at < l.until
        ORDER BY pt.account_id, pt.app_apple_id, pt.sid, pt.at, l.d DESC, l.id DESC
    ),
    steps AS (
        SELECT tp.*, lag(m) OVER w AS a_m, lag(pc) OVER w AS a_pc, lag(g_app) OVER w AS a_app,
               lag(g_subscription) OVER w AS a_subscription, lag(g_country) OVER w AS a_country,
               lag(g_offer) OVER w AS a_offer, lag(g_duration) OVER w AS a_duration
        FROM tops AS tp
        WINDOW w AS (PARTITION BY account_id, app_apple_id, sid ORDER BY at)
    ),
    changes AS (
        INSERT INTO subscriber_mrr_changes (
            workspace_id, {_KEY}, day, first_charge, {_A_STATE}, {_Z_STATE})
        SELECT workspace_id, account_id, app_apple_id, sid, at, first, a_m, a_pc, a_app,
               a_subscription, a_country, a_offer, a_duration, m, pc, g_app, g_subscription,
               g_country, g_offer, g_duration
        FROM steps
        WHERE (a_m, a_pc, a_app, a_subscription, a_country, a_offer, a_duration)
              IS DISTINCT FROM (m, pc, g_app, g_subscription, g_country, g_offer, g_duration)
        RETURNING 1
    ),
    periods AS (
        INSERT INTO subscriber_periods (workspace_id, {_KEY}, cohort, period, ended, renewed)
        SELECT workspace_id, account_id, app_apple_id, sid, date_trunc('month', first)::date,
               period, until, period < charges
        FROM (
            SELECT ch.*,
                   row_number() OVER (PARTITION BY account_id, app_apple_id, sid
                                      ORDER BY d, id) AS period,
                   count(*) OVER (PARTITION BY account_id, app_apple_id, sid) AS charges
            FROM charge AS ch
        ) AS ranked
        WHERE period <= {PERIODS_KEPT} AND until IS NOT NULL
        RETURNING 1
    ),
    money AS (
        INSERT INTO subscriber_day_proceeds (
            workspace_id, {_KEY}, cohort, event_date, proceeds_currency, proceeds, source_rows)
        SELECT workspace_id, account_id, app_apple_id, sid, date_trunc('month', first)::date,
               d, pc, sum(CASE WHEN r THEN -abs(p) ELSE p END), count(*)
        FROM t
        WHERE p IS NOT NULL AND first IS NOT NULL
        GROUP BY workspace_id, account_id, app_apple_id, sid, first, d, pc
        RETURNING 1
    )
    INSERT INTO subscriber_cohorts (workspace_id, {_KEY}, first_charge, cohort)
    SELECT workspace_id, account_id, app_apple_id, sid, first, date_trunc('month', first)::date
    FROM t
    WHERE first IS NOT NULL
    GROUP BY workspace_id, account_id, app_apple_id, sid, first
"""  # noqa: S608  (fixed SQL; values are bound)

#: The MRR movements of the subscribers matching ``{where}``, added to (``{sign}`` 1) or taken
#: from (-1) the monthly sums: per calendar month, each subscriber's monthly proceeds at the
#: end of the month before (``a``) and at the month's end (``z``), classified, summed per
#: proceeds currency and dimensions (of ``z``'s charge, else ``a``'s), with the number of
#: subscribers (a sum is kept while some subscriber is in it).
MOVEMENTS_DELTA = """
    WITH z AS (
        SELECT * FROM subscriber_months WHERE {where} AND mrr IS NOT NULL
    ),
    a AS (
        SELECT *, CAST(month + interval '1 month' AS date) AS next
        FROM subscriber_months WHERE {where} AND mrr IS NOT NULL
    ),
    p AS (
        SELECT COALESCE(z.workspace_id, a.workspace_id) AS workspace_id,
               COALESCE(z.account_id, a.account_id) AS account_id,
               COALESCE(z.app_apple_id, a.app_apple_id) AS app_apple_id,
               COALESCE(z.month, a.next) AS month,
               COALESCE(z.first_charge, a.first_charge) AS first_charge,
               z.subscriber_id IS NOT NULL AS has_z, a.mrr AS a, z.mrr AS z,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.proceeds_currency
                    ELSE a.proceeds_currency END AS pc,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_app ELSE a.g_app END AS g_app,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_subscription
                    ELSE a.g_subscription END AS g_subscription,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_country
                    ELSE a.g_country END AS g_country,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_offer ELSE a.g_offer END AS g_offer,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_duration
                    ELSE a.g_duration END AS g_duration
        FROM z FULL JOIN a
          ON a.account_id = z.account_id AND a.app_apple_id = z.app_apple_id
             AND a.subscriber_id = z.subscriber_id AND a.next = z.month
    )
    INSERT INTO subscriber_mrr_movement_months (
        workspace_id, account_id, app_apple_id, month, proceeds_currency, g_app, g_subscription,
        g_country, g_offer, g_duration, new, reactivation, expansion, contraction, churned,
        closing, subscribers, holders)
    SELECT workspace_id, account_id, app_apple_id, month, pc, g_app, g_subscription, g_country,
           g_offer, g_duration,
           {sign} * COALESCE(sum(z) FILTER (WHERE a IS NULL AND first_charge >= month), 0),
           {sign} * COALESCE(sum(z) FILTER (WHERE a IS NULL AND first_charge < month), 0),
           {sign} * COALESCE(sum(z - a) FILTER (WHERE z > a), 0),
           {sign} * COALESCE(sum(a - z) FILTER (WHERE z < a), 0),
           {sign} * COALESCE(sum(a) FILTER (WHERE NOT has_z), 0),
           {sign} * COALESCE(sum(z), 0),
           {sign} * count(*),
           {sign} * count(*) FILTER (WHERE has_z)
    FROM p
    GROUP BY workspace_id, account_id, app_apple_id, month, pc, g_app, g_subscription,
             g_country, g_offer, g_duration
    RETURNING app_apple_id, month
"""

#: The cohort facts of the subscribers matching ``{where}``, added (``{sign}`` 1) or taken
#: (-1): cohort sizes, retained subscribers per month, and net proceeds per month (of Event
#: Date; a row dated before its cohort month counts in it) and currency with their rows.
COHORTS_DELTA = """
    INSERT INTO subscriber_cohort_months (
        workspace_id, account_id, app_apple_id, cohort, month, kind, proceeds_currency,
        subscribers, proceeds)
    SELECT workspace_id, account_id, app_apple_id, cohort, cohort, 'size', CAST(NULL AS text),
           {sign} * count(*), CAST(NULL AS numeric)
    FROM subscriber_cohorts WHERE {where}
    GROUP BY workspace_id, account_id, app_apple_id, cohort
    UNION ALL
    SELECT workspace_id, account_id, app_apple_id, cohort, month, 'retained',
           CAST(NULL AS text), {sign} * count(*), CAST(NULL AS numeric)
    FROM subscriber_months WHERE {where}
    GROUP BY workspace_id, account_id, app_apple_id, cohort, month
    UNION ALL
    SELECT workspace_id, account_id, app_apple_id, cohort,
           GREATEST(date_trunc('month', event_date)::date, cohort) AS m, 'revenue',
           proceeds_currency, {sign} * sum(source_rows), {sign} * sum(proceeds)
    FROM subscriber_day_proceeds WHERE {where}
    GROUP BY workspace_id, account_id, app_apple_id, cohort, m, proceeds_currency
    RETURNING app_apple_id, cohort
"""

#: The renewal facts of the subscribers matching ``{where}``, added (``{sign}`` 1) or taken
#: (-1): per cohort, period number and the day that period ends, the subscribers and those
#: renewed.
RENEWALS_DELTA = """
    INSERT INTO subscriber_renewal_periods (
        workspace_id, account_id, app_apple_id, cohort, period, ended, subscribers, renewed)
    SELECT workspace_id, account_id, app_apple_id, cohort, period, ended, {sign} * count(*),
           {sign} * count(*) FILTER (WHERE renewed)
    FROM subscriber_periods WHERE {where}
    GROUP BY workspace_id, account_id, app_apple_id, cohort, period, ended
    RETURNING app_apple_id, cohort
"""

_MOVEMENT_SUMS = """workspace_id, account_id, app_apple_id, month, proceeds_currency, g_app,
    g_subscription, g_country, g_offer, g_duration"""
#: One row per key of the touched (app, month) pairs again, the subtracted and added deltas
#: summed; a key no subscriber is in any more is gone.
MOVEMENTS_COMPACT = f"""
    WITH gone AS (
        DELETE FROM subscriber_mrr_movement_months AS m
        USING unnest(CAST(:t_apps AS text[]), CAST(:t_months AS date[])) AS t(app, month)
        WHERE m.account_id = :a AND m.app_apple_id = t.app AND m.month = t.month
        RETURNING m.*
    )
    INSERT INTO subscriber_mrr_movement_months (
        {_MOVEMENT_SUMS}, new, reactivation, expansion, contraction, churned, closing,
        subscribers, holders)
    SELECT {_MOVEMENT_SUMS}, sum(new), sum(reactivation), sum(expansion), sum(contraction),
           sum(churned), sum(closing), sum(subscribers), sum(holders)
    FROM gone
    GROUP BY {_MOVEMENT_SUMS}
    HAVING sum(subscribers) <> 0
"""  # noqa: S608  (fixed SQL; values are bound)


def _first(side: str) -> str:
    return ", ".join(f"(array_agg({side}_{c} ORDER BY day))[1]" for c in STATE)


def _last(side: str) -> str:
    return ", ".join(f"(array_agg({side}_{c} ORDER BY day DESC))[1]" for c in STATE)


def _side(side: str) -> str:
    """A side's currency and dimensions as a row's key (``pc, g_app, …``)."""
    return f"{side}_currency AS pc, " + ", ".join(f"{side}_{c} AS {c}" for c in STATE[2:])


def _kept(first: str, then: str) -> str:
    """The key of a movement: the state after's when there is one, else the state before's."""
    return "CASE WHEN z_mrr IS NOT NULL THEN z_currency ELSE a_currency END AS pc, " + ", ".join(
        f"CASE WHEN z_mrr IS NOT NULL THEN {first}_{c} ELSE {then}_{c} END AS {c}"
        for c in STATE[2:]
    )


_SPAN_KEYS = "workspace_id, account_id, app_apple_id, span, start, pc, " + ", ".join(STATE[2:])
#: The MRR movements of the subscribers matching ``{where}`` per day and per ISO week, added
#: (``{sign}`` 1) or taken (-1): per span, each subscriber's state the day before the span
#: (``a``: before its first change in the span) and at its end (``z``: from its last change),
#: classified as the monthly sums are (new: no state before and a first charge in the span),
#: summed per proceeds currency and dimensions of ``z`` (else ``a``); with the closing stock's
#: change per each side's own group (``net``: +z, −a; ``held``: +1, −1), so a span's closing
#: is the month end's plus the days' changes since.
SPANS_DELTA = f"""
    WITH c AS MATERIALIZED (
        SELECT * FROM subscriber_mrr_changes WHERE {{where}}
    ),
    p AS (
        SELECT 'day' AS span, day AS start, workspace_id, account_id, app_apple_id,
               first_charge, {_A_STATE}, {_Z_STATE}
        FROM c
        UNION ALL
        SELECT 'week', w, workspace_id, account_id, app_apple_id, min(first_charge),
               {_first("a")}, {_last("z")}
        FROM (SELECT c.*, CAST(date_trunc('week', day) AS date) AS w FROM c) AS cw
        GROUP BY workspace_id, account_id, app_apple_id, subscriber_id, w
    ),
    q AS (
        SELECT * FROM p WHERE ({_A_STATE}) IS DISTINCT FROM ({_Z_STATE})
    ),
    r AS (
        SELECT span, start, workspace_id, account_id, app_apple_id, {_kept("z", "a")},
               CASE WHEN a_mrr IS NULL AND first_charge >= start THEN z_mrr END AS new,
               CASE WHEN a_mrr IS NULL AND first_charge < start THEN z_mrr END AS reactivation,
               CASE WHEN z_mrr > a_mrr THEN z_mrr - a_mrr END AS expansion,
               CASE WHEN z_mrr < a_mrr THEN a_mrr - z_mrr END AS contraction,
               CASE WHEN z_mrr IS NULL THEN a_mrr END AS churned,
               CASE WHEN z_mrr IS NULL THEN 1 ELSE 0 END AS churners,
               CAST(NULL AS numeric) AS net, 0 AS held
        FROM q
        UNION ALL
        SELECT span, start, workspace_id, account_id, app_apple_id, {_side("z")}, NULL, NULL,
               NULL, NULL, NULL, 0, z_mrr, 1
        FROM q WHERE z_mrr IS NOT NULL
        UNION ALL
        SELECT span, start, workspace_id, account_id, app_apple_id, {_side("a")}, NULL, NULL,
               NULL, NULL, NULL, 0, -a_mrr, -1
        FROM q WHERE a_mrr IS NOT NULL
    )
    INSERT INTO subscriber_mrr_movement_spans (
        workspace_id, account_id, app_apple_id, span, start, proceeds_currency, g_app,
        g_subscription, g_country, g_offer, g_duration, new, reactivation, expansion,
        contraction, churned, churners, net, held, subscribers)
    SELECT {_SPAN_KEYS},
           {{sign}} * COALESCE(sum(new), 0), {{sign}} * COALESCE(sum(reactivation), 0),
           {{sign}} * COALESCE(sum(expansion), 0), {{sign}} * COALESCE(sum(contraction), 0),
           {{sign}} * COALESCE(sum(churned), 0), {{sign}} * sum(churners),
           {{sign}} * COALESCE(sum(net), 0), {{sign}} * sum(held), {{sign}} * count(*)
    FROM r
    GROUP BY {_SPAN_KEYS}
    RETURNING app_apple_id, span, start
"""  # noqa: S608  (fixed SQL; values are bound)

_SPAN_SUMS = """workspace_id, account_id, app_apple_id, span, start, proceeds_currency, g_app,
    g_subscription, g_country, g_offer, g_duration"""
#: One row per key of the touched (app, span, start) again, as ``MOVEMENTS_COMPACT``.
SPANS_COMPACT = f"""
    WITH gone AS (
        DELETE FROM subscriber_mrr_movement_spans AS m
        USING unnest(CAST(:s_apps AS text[]), CAST(:s_spans AS text[]),
                     CAST(:s_starts AS date[])) AS t(app, span, start)
        WHERE m.account_id = :a AND m.app_apple_id = t.app AND m.span = t.span
              AND m.start = t.start
        RETURNING m.*
    )
    INSERT INTO subscriber_mrr_movement_spans (
        {_SPAN_SUMS}, new, reactivation, expansion, contraction, churned, churners, net, held,
        subscribers)
    SELECT {_SPAN_SUMS}, sum(new), sum(reactivation), sum(expansion), sum(contraction),
           sum(churned), sum(churners), sum(net), sum(held), sum(subscribers)
    FROM gone
    GROUP BY {_SPAN_SUMS}
    HAVING sum(subscribers) <> 0
"""  # noqa: S608  (fixed SQL; values are bound)


_GROUPS = ", ".join(STATE[2:])
#: The month-to-date closing changes of the (account, app, calendar month) triples ``{months}``
#: selects (``account, app, month``), built again from their compacted day spans: per key, the
#: running sums of ``net`` and ``held`` over the month's days, each written for every day from
#: that span to the key's next (or the month's end) — the stock's change from the month before's
#: end to each day's end. The months' old rows go in the same statement; a key whose sums are
#: both zero (its changes cancelled) writes no row.
MONTH_TO_DATE = f"""
    WITH t AS MATERIALIZED (
        {{months}}
    ),
    gone AS (
        DELETE FROM subscriber_mrr_month_to_date AS m
        USING t
        WHERE m.account_id = t.account AND m.app_apple_id = t.app AND m.day >= t.month
              AND m.day < CAST(t.month + interval '1 month' AS date)
    ),
    s AS (
        SELECT s.workspace_id, s.account_id, s.app_apple_id, s.start, s.proceeds_currency,
               {", ".join(f"s.{g}" for g in STATE[2:])},
               sum(s.net) OVER w AS net, sum(s.held) OVER w AS held,
               COALESCE(lead(s.start) OVER w,
                        CAST(t.month + interval '1 month' AS date)) AS following
        FROM t JOIN subscriber_mrr_movement_spans AS s
          ON s.account_id = t.account AND s.app_apple_id = t.app AND s.span = 'day'
             AND s.start >= t.month AND s.start < CAST(t.month + interval '1 month' AS date)
        WINDOW w AS (PARTITION BY s.account_id, s.app_apple_id, t.month, s.proceeds_currency,
                                  {", ".join(f"s.{g}" for g in STATE[2:])}
                     ORDER BY s.start)
    )
    INSERT INTO subscriber_mrr_month_to_date (
        workspace_id, account_id, app_apple_id, day, proceeds_currency, {_GROUPS}, net, held)
    SELECT workspace_id, account_id, app_apple_id, start + n, proceeds_currency, {_GROUPS},
           net, held
    FROM s CROSS JOIN LATERAL generate_series(0, following - start - 1) AS n
    WHERE net <> 0 OR held <> 0
"""  # noqa: S608  (fixed SQL; values are bound)
#: The months of one account's touched day spans (``:m_apps``, ``:m_months``).
_TOUCHED_MONTHS = """
    SELECT DISTINCT CAST(:a AS uuid) AS account, app, month
    FROM unnest(CAST(:m_apps AS text[]), CAST(:m_months AS date[])) AS t(app, month)
"""
#: Every month with a day span of ``{where}`` (a full rebuild, the migration's backfill).
_SPAN_MONTHS = """
    SELECT DISTINCT account_id AS account, app_apple_id AS app,
           CAST(date_trunc('month', start) AS date) AS month
    FROM subscriber_mrr_movement_spans WHERE {where} AND span = 'day'
"""


def _cohort_compact(table: str, keys: str, sums: str) -> str:
    """One row per key of the touched (app, cohort) pairs of a cohort table again, the
    subtracted and added deltas (``sums``) summed; a key no subscriber is in any more is
    gone."""
    summed = ", ".join(f"sum({column})" for column in sums.split(", "))
    return f"""
        WITH gone AS (
            DELETE FROM {table} AS m
            USING unnest(CAST(:c_apps AS text[]), CAST(:c_months AS date[])) AS t(app, cohort)
            WHERE m.account_id = :a AND m.app_apple_id = t.app AND m.cohort = t.cohort
            RETURNING m.*
        )
        INSERT INTO {table} ({keys}, {sums})
        SELECT {keys}, {summed}
        FROM gone
        GROUP BY {keys}
        HAVING sum(subscribers) <> 0
    """  # noqa: S608  (fixed identifiers)


COHORTS_COMPACT = _cohort_compact(
    "subscriber_cohort_months",
    "workspace_id, account_id, app_apple_id, cohort, month, kind, proceeds_currency",
    "subscribers, proceeds",
)
RENEWALS_COMPACT = _cohort_compact(
    "subscriber_renewal_periods",
    "workspace_id, account_id, app_apple_id, cohort, period, ended",
    "subscribers, renewed",
)

_AFFECTED = """
    SELECT app_apple_id, subscriber_id FROM subscriber_report_days
    WHERE account_id = :a AND report_date = :d
    UNION
    SELECT app_apple_id, btrim(subscriber_id) FROM subscriber_transaction_rows
    WHERE account_id = :a AND report_date = :d AND app_apple_id IS NOT NULL
          AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
"""
#: One app's Subscriber IDs: an array test, not a join — planned right even when the
#: statistics of a table still describe it empty.
_OF_IDS = "account_id = :a AND app_apple_id = :app AND subscriber_id = ANY(CAST(:sids AS text[]))"
_RAW_OF_IDS = """
    account_id = :a AND app_apple_id = :app AND btrim(subscriber_id) = ANY(CAST(:sids AS text[]))
"""
_REPORT_DAYS = """
    INSERT INTO subscriber_report_days (account_id, report_date, app_apple_id, subscriber_id)
    SELECT DISTINCT account_id, report_date, app_apple_id, btrim(subscriber_id)
    FROM subscriber_transaction_rows
    WHERE {where} AND app_apple_id IS NOT NULL
          AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
"""


@dataclass
class _Touched:
    months: set[tuple[str, dt.date]] = field(default_factory=set)
    cohorts: set[tuple[str, dt.date]] = field(default_factory=set)
    spans: set[tuple[str, str, dt.date]] = field(default_factory=set)


async def _contribute(
    session: AsyncSession, where: str, params: dict[str, Any], sign: int, touched: _Touched
) -> None:
    """Add (``sign`` 1) or take (-1) the movements and cohort facts of the subscribers matching
    ``where`` (their current per-subscriber rows), noting the keys touched."""
    for sql, into in (
        (MOVEMENTS_DELTA, touched.months),
        (COHORTS_DELTA, touched.cohorts),
        (RENEWALS_DELTA, touched.cohorts),
    ):
        statement = text(sql.format(where=where, sign=sign))
        for app, month in await session.execute(statement, params):
            into.add((app, month))
    statement = text(SPANS_DELTA.format(where=where, sign=sign))
    for app, span, start in await session.execute(statement, params):
        touched.spans.add((app, span, start))


async def _compact(session: AsyncSession, account_id: uuid.UUID, touched: _Touched) -> None:
    months, cohorts = sorted(touched.months), sorted(touched.cohorts)
    params: dict[str, Any] = {
        "a": account_id,
        "t_apps": [app for app, _ in months],
        "t_months": [month for _, month in months],
        "c_apps": [app for app, _ in cohorts],
        "c_months": [month for _, month in cohorts],
    }
    spans = sorted(touched.spans)
    params.update(
        s_apps=[app for app, _, _ in spans],
        s_spans=[span for _, span, _ in spans],
        s_starts=[start for _, _, start in spans],
    )
    await session.execute(text(MOVEMENTS_COMPACT), params)
    await session.execute(text(SPANS_COMPACT), params)
    # After the day spans are compacted: the month-to-date sums of their months, from them.
    months = sorted({(app, start.replace(day=1)) for app, span, start in spans if span == "day"})
    params.update(m_apps=[app for app, _ in months], m_months=[month for _, month in months])
    await session.execute(text(MONTH_TO_DATE.format(months=_TOUCHED_MONTHS)), params)
    await session.execute(text(COHORTS_COMPACT), params)
    await session.execute(text(RENEWALS_COMPACT), params)


_TABLES = (
    "subscriber_months",
    "subscriber_day_proceeds",
    "subscriber_cohorts",
    "subscriber_periods",
    "subscriber_mrr_changes",
)


async def rebuild_subscribers(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Re-derive the per-subscriber rows of every Subscriber ID one account's report day
    names (in its replaced rows and in its new ones): their old share of the monthly sums is
    taken out, their rows derived again from all their stored rows, their new share added;
    runs in the unit's transaction."""
    params: dict[str, Any] = {"a": account_id, "d": report_date}
    pairs = (await session.execute(text(_AFFECTED), params)).all()
    await session.execute(
        text("DELETE FROM subscriber_report_days WHERE account_id = :a AND report_date = :d"),
        params,
    )
    await session.execute(
        text(_REPORT_DAYS.format(where="account_id = :a AND report_date = :d")), params
    )
    if not pairs:
        return
    by_app: dict[str, list[str]] = {}
    for app, sid in pairs:
        by_app.setdefault(app, []).append(sid)
    touched = _Touched()
    await _analyze_if_stale(session)
    jit = await _no_jit(session)
    for app, sids in sorted(by_app.items()):
        params.update(app=app, sids=sids)
        await _contribute(session, _OF_IDS, params, -1, touched)
        for table in _TABLES:
            await session.execute(text(f"DELETE FROM {table} WHERE {_OF_IDS}"), params)  # noqa: S608
        await session.execute(text(DERIVE.format(where=_RAW_OF_IDS)), params)
        await _contribute(session, _OF_IDS, params, 1, touched)
    await _compact(session, account_id, touched)
    await session.execute(text("SELECT set_config('jit', :jit, true)"), {"jit": jit})


#: The tables these statements read, and the partitions of the partitioned Subscriber rows
#: (a partitioned table's own statistics never count modifications: its leaves' do).
_STALE = """
    SELECT relname FROM pg_stat_user_tables
    WHERE (relname IN ('subscriber_months', 'subscriber_day_proceeds', 'subscriber_cohorts',
                       'subscriber_periods', 'subscriber_mrr_changes',
                       'subscriber_transaction_rows')
           OR relid IN (SELECT relid FROM pg_partition_tree('subscriber_transaction_rows')
                        WHERE isleaf))
          AND n_mod_since_analyze > 1000 + 0.2 * n_live_tup
"""


async def _analyze_if_stale(session: AsyncSession) -> None:
    """Analyze a table these statements read whose statistics are stale, as autovacuum would (it may
    be off, or behind a bulk sync): with a table's statistics still saying it is empty, the
    planner filters every row of the app by the ID list instead of looking the IDs up."""
    for (table,) in (await session.execute(text(_STALE))).all():
        await session.execute(text(f"ANALYZE {table}"))  # one of the names above


async def _no_jit(session: AsyncSession) -> str:
    """Turn JIT compilation off for these statements (returns the setting to restore): the
    planner cannot know that ``generate_series`` yields a month or a year's twelve, and its
    estimate of a thousand rows makes it compile the statements for longer (seconds) than
    they run."""
    jit = await session.scalar(text("SELECT current_setting('jit')"))
    await session.execute(text("SELECT set_config('jit', 'off', true)"))
    return str(jit)


async def rebuild_all(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Derive every per-subscriber row and sum of one account from its stored rows."""
    params: dict[str, Any] = {"a": account_id}
    for table in (*_TABLES, "subscriber_report_days", "subscriber_mrr_movement_months",
                  "subscriber_cohort_months", "subscriber_renewal_periods",
                  "subscriber_mrr_movement_spans", "subscriber_mrr_month_to_date"):  # fmt: skip
        await session.execute(text(f"DELETE FROM {table} WHERE account_id = :a"), params)  # noqa: S608
    await session.execute(text(_REPORT_DAYS.format(where="account_id = :a")), params)
    await session.execute(text(DERIVE.format(where="account_id = :a")), params)
    await _contribute(session, "account_id = :a", params, 1, _Touched())
    months = _SPAN_MONTHS.format(where="account_id = :a")
    await session.execute(text(MONTH_TO_DATE.format(months=months)), params)


# --- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppScope:
    """The partition these tables answer for: one app (App Apple ID) of one account."""

    workspace_id: uuid.UUID
    account_id: uuid.UUID
    app_apple_id: str


def _app_where(scope: AppScope, params: dict[str, Any]) -> str:
    params.update(ws=scope.workspace_id, f_account=scope.account_id, f_app=scope.app_apple_id)
    return "workspace_id = :ws AND account_id = :f_account AND app_apple_id = :f_app"


MOVEMENT_COLUMNS = ("new", "reactivation", "expansion", "contraction", "churned", "closing")
_GROUP_COLUMNS = {
    "app": "g_app",
    "subscription": "g_subscription",
    "country": "g_country",
    "offer": "g_offer",
    "duration": "g_duration",
}


@dataclass(frozen=True)
class MonthMovements:
    month: dt.date
    group: tuple[str | None, ...]
    currency: str | None
    amounts: dict[str, Decimal]


def groupable(dimensions: Sequence[str]) -> bool:
    return all(d in _GROUP_COLUMNS for d in dimensions)


async def movement_months(
    session: AsyncSession,
    where: str,
    params: dict[str, Any],
    first: dt.date,
    last: dt.date,
    dimensions: Sequence[str],
) -> list[MonthMovements]:
    """MRR movements per calendar month ``first``…``last`` (first days), group (dimension
    values, empty as null) and proceeds currency, summed over the rows of
    ``subscriber_mrr_movement_months`` matching ``where`` (its values in ``params``): one app,
    or several — a subscriber is a Subscriber ID of one app, so the apps' sums add up."""
    params = {**params, "first": first, "last": last}
    names = "".join(f", {_GROUP_COLUMNS[d]}" for d in dimensions)
    sums = ", ".join(f"sum({c})" for c in MOVEMENT_COLUMNS)
    sql = f"""
        SELECT month{names}, proceeds_currency, {sums}
        FROM subscriber_mrr_movement_months
        WHERE {where} AND month BETWEEN :first AND :last AND subscribers <> 0
        GROUP BY month{names}, proceeds_currency
    """  # noqa: S608  (identifiers from a fixed map; values are bound)
    width = len(dimensions)
    return [
        MonthMovements(
            month=row[0],
            group=tuple(row[1 : 1 + width]),
            currency=row[1 + width],
            amounts=dict(zip(MOVEMENT_COLUMNS, row[2 + width :], strict=True)),
        )
        for row in await session.execute(text(sql), params)
    ]


#: Which precomputed sums answer a bucket: a whole calendar month, a day, an ISO week; any
#: other span is composed from the per-subscriber changes.
SpanKind = str


def span_kind(first: dt.date, last: dt.date) -> SpanKind:
    """``month``, ``day``, ``week`` or ``span`` (another span) for the days first…last."""
    following = last + dt.timedelta(days=1)
    if first.day == 1 and following.day == 1 and following - first <= dt.timedelta(days=31):
        return "month"
    if first == last:
        return "day"
    if first.weekday() == 0 and last == first + dt.timedelta(days=6):
        return "week"
    return "span"


#: The state before a subscriber's first change in a span, on each of its changes there.
_opening = ", ".join(f"first_value(c.a_{c}) OVER w AS a_{c}" for c in STATE)


def _composed(dimensions: Sequence[str], storefront: str) -> str:
    """Movements of the ``span`` buckets from the per-subscriber changes in them: each
    subscriber's state before its first change in the span and after its last (its last
    change's row, with the first's state before as a window over its changes)."""
    names = "".join(
        f", CASE WHEN z_mrr IS NOT NULL THEN z_{_GROUP_COLUMNS[d]} ELSE a_{_GROUP_COLUMNS[d]} END"
        for d in dimensions
    )
    kept_country = "CASE WHEN z_mrr IS NOT NULL THEN z_g_country ELSE a_g_country END"
    where = f"AND {kept_country} = ANY(CAST(:m_countries AS text[]))" if storefront else ""
    return f"""
        SELECT v.b, CASE WHEN z_mrr IS NOT NULL THEN z_currency ELSE a_currency END{names},
               CASE WHEN a_mrr IS NULL AND first_charge > v.o THEN z_mrr END,
               CASE WHEN a_mrr IS NULL AND first_charge <= v.o THEN z_mrr END,
               CASE WHEN z_mrr > a_mrr THEN z_mrr - a_mrr END,
               CASE WHEN z_mrr < a_mrr THEN a_mrr - z_mrr END,
               CASE WHEN z_mrr IS NULL THEN a_mrr END,
               CASE WHEN z_mrr IS NULL THEN 1 ELSE 0 END, CAST(NULL AS numeric), 0
        FROM (
            SELECT x.b, x.o, c.first_charge, {_opening}, {_Z_STATE},
                   lead(c.day) OVER w AS following
            FROM x JOIN subscriber_mrr_changes AS c ON c.day > x.o AND c.day <= x.e
            WHERE x.k = 'span' AND {{cwhere}}
            WINDOW w AS (PARTITION BY x.b, c.account_id, c.app_apple_id, c.subscriber_id
                         ORDER BY c.day)
        ) AS v
        WHERE following IS NULL AND ({_A_STATE}) IS DISTINCT FROM ({_Z_STATE}) {where}
    """  # noqa: S608  (identifiers from a fixed map)


async def movement_spans(
    session: AsyncSession,
    where: str,
    changes_where: str,
    params: dict[str, Any],
    buckets: Sequence[tuple[dt.date, dt.date, dt.date]],
    dimensions: Sequence[str],
    storefront: bool,
) -> list[MonthMovements]:
    """MRR movements per bucket (bucket, first day, last day), group and proceeds currency, in
    one statement: whole months from ``subscriber_mrr_movement_months``, days and ISO weeks
    from ``subscriber_mrr_movement_spans``, other spans composed from
    ``subscriber_mrr_changes`` (``changes_where``; the storefront filter, when ``storefront``,
    applied to each subscriber's kept charge, as ``where`` does to the sums); the closing
    MRR of each bucket's last day is the month end's before it plus the month-to-date change
    at that day (``subscriber_mrr_month_to_date``: one row per key, not the days since).
    A key is in the answer while some subscriber is: with a charge at the end, or churned."""
    # Each bucket's closing: the month end's at or before its last day (``x_c``), plus the
    # month-to-date change at that day unless it is a month's last (``x_m``).
    closing_months = [(last + dt.timedelta(days=1)).replace(day=1) for _, _, last in buckets]
    params = {
        **params,
        "x_b": [b for b, _, _ in buckets],
        "x_o": [first - dt.timedelta(days=1) for _, first, _ in buckets],
        "x_e": [last for _, _, last in buckets],
        "x_k": [span_kind(first, last) for _, first, last in buckets],
        "x_c": [(month - dt.timedelta(days=1)).replace(day=1) for month in closing_months],
        "x_m": [
            None if month == last + dt.timedelta(days=1) else last
            for month, (_, _, last) in zip(closing_months, buckets, strict=True)
        ],
    }
    names = "".join(f", {_GROUP_COLUMNS[d]}" for d in dimensions)
    kept = "".join(f", k.{_GROUP_COLUMNS[d]}" for d in dimensions)
    sums = "new, reactivation, expansion, contraction, churned"
    zeros = "0, 0, 0, 0, 0, 0"
    parts = [
        f"""SELECT x.b, proceeds_currency{names}, {sums}, subscribers - holders, 0, 0
            FROM x JOIN subscriber_mrr_movement_months ON month = x.o + 1
            WHERE x.k = 'month' AND {where}""",  # noqa: S608
        f"""SELECT x.b, proceeds_currency{names}, {sums}, churners, 0, 0
            FROM x JOIN subscriber_mrr_movement_spans ON span = x.k AND start = x.o + 1
            WHERE x.k IN ('day', 'week') AND {where}""",  # noqa: S608
        # The stocks summed per month end or day and key first (a month end is the start of
        # many buckets), then given to each bucket.
        f"""SELECT x.b, k.pc{kept}, {zeros}, k.closing, k.holders
            FROM x JOIN (
                SELECT month, proceeds_currency AS pc{names}, sum(closing) AS closing,
                       sum(holders) AS holders
                FROM subscriber_mrr_movement_months
                WHERE month = ANY(CAST(:x_c AS date[])) AND {where}
                GROUP BY month, proceeds_currency{names}
            ) AS k ON k.month = x.c""",  # noqa: S608
        f"""SELECT x.b, k.pc{kept}, {zeros}, k.net, k.held
            FROM x JOIN (
                SELECT day, proceeds_currency AS pc{names}, sum(net) AS net, sum(held) AS held
                FROM subscriber_mrr_month_to_date
                WHERE day = ANY(CAST(:x_m AS date[])) AND {where}
                GROUP BY day, proceeds_currency{names}
            ) AS k ON k.day = x.m""",  # noqa: S608
    ]
    if "span" in params["x_k"]:
        parts.append(
            _composed(dimensions, "m_countries" if storefront else "").format(cwhere=changes_where)
        )
    sql = f"""
        WITH x AS MATERIALIZED (
            SELECT * FROM unnest(CAST(:x_b AS date[]), CAST(:x_o AS date[]),
                                 CAST(:x_e AS date[]), CAST(:x_k AS text[]),
                                 CAST(:x_c AS date[]), CAST(:x_m AS date[]))
                AS x(b, o, e, k, c, m)
        ),
        moves (b, pc{names}, {sums}, churners, net, held) AS (
            {" UNION ALL ".join(parts)}
        )
        SELECT b{names}, pc, COALESCE(sum(new), 0), COALESCE(sum(reactivation), 0),
               COALESCE(sum(expansion), 0), COALESCE(sum(contraction), 0),
               COALESCE(sum(churned), 0), COALESCE(sum(net), 0)
        FROM moves
        GROUP BY b{names}, pc
        HAVING sum(held) + sum(churners) > 0
    """  # noqa: S608  (identifiers from a fixed map; values are bound)
    width = len(dimensions)
    return [
        MonthMovements(
            month=row[0],
            group=tuple(row[1 : 1 + width]),
            currency=row[1 + width],
            amounts=dict(zip(MOVEMENT_COLUMNS, row[2 + width :], strict=True)),
        )
        for row in await session.execute(text(sql), params)
    ]
