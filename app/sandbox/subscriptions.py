"""Subscription-family daily reports of ``GET /v1/salesReports``, derived from the subscription
world (:mod:`app.sandbox.subscription_world`): one simulated population per subscription group,
so the files agree with each other and with the simulation's truth.

==================================  =========  =======  ======================================
reportType / reportSubType          version    source   content of the file of day D
==================================  =========  =======  ======================================
SUBSCRIPTION / SUMMARY              1_3        §5.3     active subscriptions at the end of D
SUBSCRIPTION_EVENT / SUMMARY        1_3        §5.4     events of D, D-1, D-2 (§8), aggregated
SUBSCRIBER / DETAILED               1_3        §5.5     one row per transaction of those events
SUBSCRIPTION_OFFER_CODE_REDEMPTION  1_0        §4.5     offer codes redeemed on D
  / SUMMARY                                             (layout: Apple's help page, see
WIN_BACK_ELIGIBILITY / SUMMARY      1_0        §4.5     churned subscriptions as of D
                                                        :mod:`.subscription_world.extra_reports`)
==================================  =========  =======  ======================================

A team whose selling apps have no auto-renewable subscription gets Apple's 400 "Invalid vendor
number" for all of them (FACTS §7), while its SALES reports work. A day with no row is the
404 "There were no sales for the date specified."
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from app.sandbox.errors import invalid_parameter, no_sales
from app.sandbox.sales import rows_to_tsv
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.subscription_world import extra_reports, files
from app.sandbox.subscription_world.files import (
    EVENT_HEADER,
    SUBSCRIBER_HEADER,
    SUBSCRIPTION_HEADER,
)
from app.sandbox.subscription_world.options import WorldOptions
from app.sandbox.subscription_world.products import selling_groups
from app.sandbox.subscription_world.registry import churn_index, registry, team_worlds
from app.sandbox.subscription_world.world import GroupWorld

__all__ = [
    "EVENT_HEADER",
    "REPORTS",
    "SUBSCRIBER_HEADER",
    "SUBSCRIPTION_HEADER",
    "EventCount",
    "daily_report",
    "event_rows",
    "events",
    "has_auto_renewables",
    "header_for",
    "offer_code_rows",
    "rows_for",
    "snapshot_rows",
    "subscriber_rows",
    "win_back_rows",
]

#: (reportType, reportSubType) → (file name prefix, file version).
REPORTS: dict[tuple[str, str], tuple[str, str]] = {
    ("SUBSCRIPTION", "SUMMARY"): ("Subscription", "1_3"),
    ("SUBSCRIPTION_EVENT", "SUMMARY"): ("Subscription_Event", "1_3"),
    ("SUBSCRIBER", "DETAILED"): ("Subscriber", "1_3"),
    # File names of these two are not on record (FACTS §4.5 lists the UI names of the others).
    ("SUBSCRIPTION_OFFER_CODE_REDEMPTION", "SUMMARY"): ("Subscription_Offer_Redemption", "1_0"),
    ("WIN_BACK_ELIGIBILITY", "SUMMARY"): ("Win_Back_Eligibility", "1_0"),
}
Rows = list[dict[str, str]]
_OFFER_NAME = "Subscription Offer Name"


class EventCount(NamedTuple):
    """One row of a SUBSCRIPTION_EVENT file, reduced to what tests usually sum."""

    day: date
    name: str
    offer_type: str
    quantity: int


def has_auto_renewables(team: SandboxTeam) -> bool:
    return bool(selling_groups(team))


def _team_rows(
    state: SandboxState, team: SandboxTeam, day: date, build: Callable[[GroupWorld, int], Rows]
) -> Rows:
    rows = [row for world in team_worlds(state, team, day) for row in build(world, day.toordinal())]
    renamed = registry(state).options.offer_name_column  # the unconfirmed column name variant
    if renamed != _OFFER_NAME:
        for row in rows:
            if _OFFER_NAME in row:
                row[renamed] = row.pop(_OFFER_NAME)
    return rows


def snapshot_rows(state: SandboxState, team: SandboxTeam, day: date) -> Rows:
    return _team_rows(state, team, day, files.snapshot_rows)


def event_rows(state: SandboxState, team: SandboxTeam, day: date) -> Rows:
    return _team_rows(state, team, day, files.event_rows)


def subscriber_rows(state: SandboxState, team: SandboxTeam, day: date) -> Rows:
    return _team_rows(state, team, day, files.subscriber_rows)


def offer_code_rows(state: SandboxState, team: SandboxTeam, day: date) -> Rows:
    return _team_rows(state, team, day, extra_reports.offer_code_rows)


def win_back_rows(state: SandboxState, team: SandboxTeam, day: date) -> Rows:
    def build(world: GroupWorld, ordinal: int) -> Rows:
        return extra_reports.win_back_rows(world, churn_index(state, world), ordinal)

    return _team_rows(state, team, day, build)


def events(state: SandboxState, team: SandboxTeam, day: date) -> list[EventCount]:
    """The rows of the SUBSCRIPTION_EVENT file of ``day`` as (event date, event, offer type,
    quantity)."""
    return [
        EventCount(
            date.fromisoformat(row["Event Date"]),
            row["Event"],
            row["Subscription Offer Type"],
            int(row["Quantity"]),
        )
        for row in event_rows(state, team, day)
    ]


_ROWS: dict[str, Callable[[SandboxState, SandboxTeam, date], Rows]] = {
    "SUBSCRIPTION": snapshot_rows,
    "SUBSCRIPTION_EVENT": event_rows,
    "SUBSCRIBER": subscriber_rows,
    "SUBSCRIPTION_OFFER_CODE_REDEMPTION": offer_code_rows,
    "WIN_BACK_ELIGIBILITY": win_back_rows,
}


def rows_for(state: SandboxState, team: SandboxTeam, report_type: str, day: date) -> Rows:
    return _ROWS[report_type](state, team, day)


def header_for(state: SandboxState, report_type: str) -> tuple[str, ...]:
    options = registry(state).options
    renamed = options.offer_name_column
    return tuple(renamed if name == _OFFER_NAME else name for name in _header(report_type, options))


def _header(report_type: str, options: WorldOptions) -> tuple[str, ...]:
    return {
        "SUBSCRIPTION": SUBSCRIPTION_HEADER,
        "SUBSCRIPTION_EVENT": EVENT_HEADER,
        "SUBSCRIBER": SUBSCRIBER_HEADER,
        "SUBSCRIPTION_OFFER_CODE_REDEMPTION": (
            extra_reports.OFFER_CODE_HEADERS[options.offer_code_layout]
        ),
        "WIN_BACK_ELIGIBILITY": extra_reports.WIN_BACK_HEADERS[options.win_back_layout],
    }[report_type]


def daily_report(
    state: SandboxState, team: SandboxTeam, report_type: str, day: date
) -> tuple[str, str]:
    """(TSV text, file name) of one subscription-family daily report; raises Apple's errors."""
    if not has_auto_renewables(team):
        raise invalid_parameter("filter[vendorNumber]", "Invalid vendor number")
    rows = rows_for(state, team, report_type, day)
    if not rows:
        raise no_sales()
    prefix, version = next(v for k, v in REPORTS.items() if k[0] == report_type)
    filename = f"{prefix}_{team.vendor_number}_{day:%Y%m%d}_V{version}.txt.gz"
    return rows_to_tsv(header_for(state, report_type), rows), filename
