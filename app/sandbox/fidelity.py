"""Selectable Apple behaviours: the shapes FACTS §8 reports or leaves open, one knob each.

Apple's answers in these corners are reported by third parties, guessed, or undocumented, so
the sandbox serves every plausible shape and lets a test (or a person over HTTP) pick one.
Every default is the sandbox's original behaviour, so nothing changes until a knob is turned.

=========================  ===================  ==============================================
option                     default              variants (FACTS section)
=========================  ===================  ==============================================
``zz_footer``              ``combined``         ``per_country``, ``rows_only``, ``cut_at_rows``
                                                — ``FINANCIAL``/``ZZ`` file end (§5.6, §8)
``payment_regions``        ``False``            ``True``: extra USD storefronts in ``LL``,
                                                ``AP``, ``WW``; every region code of Apple's
                                                table is accepted (§8)
``late_publication_hours`` ``0``                ``n``: a period first answers 404 "no sales",
                                                then its file appears ``n`` hours later (§8)
``late_days``              empty (= every day)  only these report end days are late
``version_error``          ``with_source``      ``detail_only`` (§4.5, §8)
``finance_detail``         ``no_sales``         ``header_first``, ``title_lines`` (§5.6, §8)
``pre_orders``             ``False``            ``True``: ``PRE_ORDER`` reports have rows (§4.5)
``expiry``                 ``gone_410``         ``not_found_404``, ``bad_request_400`` (§8)
``reply_publish_hours``    ``12``               any delay before a response is ``PUBLISHED``
                                                (§4.4)
``submitted_date``         ``last_submission``  ``first_submission`` (§4.9)
``draft_submissions``      ``False``            ``True``: a ``READY_FOR_REVIEW`` submission
                                                without ``submittedDate`` before the first
                                                submission (§4.9)
=========================  ===================  ==============================================

Choices are sandbox-wide (:attr:`FidelityOptions.default`) or per team
(:meth:`FidelityOptions.set_team`, keyed by team name, i.e. per vendor number). Over HTTP they
are read and changed under ``/sandbox/fidelity`` (see :mod:`app.sandbox.fidelity_admin`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum
from typing import Any


class ZzFooter(StrEnum):
    """How a ``FINANCIAL`` ``regionCode=ZZ`` ("all regions, single file") file ends."""

    COMBINED = "combined"  # Total_Rows / Total_Amount / Total_Units, like a region file
    PER_COUNTRY = "per_country"  # Total_Rows / Total_Units, then a totals table per country
    ROWS_ONLY = "rows_only"  # Total_Rows only: no Total_Amount, no Total_Units
    CUT_AT_ROWS = "cut_at_rows"  # the text stops inside the Total_Rows line


class VersionErrorShape(StrEnum):
    """How a stale or missing ``filter[version]`` is refused (always 400)."""

    WITH_SOURCE = "with_source"  # source.parameter == "filter[version]"
    DETAIL_ONLY = "detail_only"  # the latest version only in ``detail``; no ``source``


class FinanceDetailShape(StrEnum):
    """What ``FINANCE_DETAIL`` (``regionCode=Z1``) answers."""

    NO_SALES = "no_sales"  # 404 "There were no sales for the date specified."
    HEADER_FIRST = "header_first"  # transaction rows, header on the first line
    TITLE_LINES = "title_lines"  # vendor/period title lines above the header


class ExpiryAnswer(StrEnum):
    """What a report past Apple's retention answers (spec 4.4.1 declares no 404/410)."""

    GONE = "gone_410"  # 410 GONE "Report is no longer available…"
    NOT_FOUND = "not_found_404"  # 404 "There were no sales for the date specified."
    BAD_REQUEST = "bad_request_400"  # 400 PARAMETER_ERROR.INVALID on filter[reportDate]


class SubmittedDate(StrEnum):
    """Which moment a review submission's ``submittedDate`` shows after a resubmission."""

    LAST = "last_submission"  # moves to the resubmission after a rejection
    FIRST = "first_submission"  # stays at the first submission


OPTION_ENUMS: dict[str, type[StrEnum]] = {
    "zz_footer": ZzFooter,
    "version_error": VersionErrorShape,
    "finance_detail": FinanceDetailShape,
    "expiry": ExpiryAnswer,
    "submitted_date": SubmittedDate,
}


@dataclass(frozen=True)
class Fidelity:
    """One set of choices (immutable and hashable, so generators can cache on it)."""

    zz_footer: ZzFooter = ZzFooter.COMBINED
    payment_regions: bool = False
    late_publication_hours: int = 0
    late_days: frozenset[date] = frozenset()
    version_error: VersionErrorShape = VersionErrorShape.WITH_SOURCE
    finance_detail: FinanceDetailShape = FinanceDetailShape.NO_SALES
    pre_orders: bool = False
    expiry: ExpiryAnswer = ExpiryAnswer.GONE
    reply_publish_hours: float = 12.0
    submitted_date: SubmittedDate = SubmittedDate.LAST
    draft_submissions: bool = False

    @property
    def reply_publish_delay(self) -> timedelta:
        return timedelta(hours=self.reply_publish_hours)

    @property
    def late_publication(self) -> timedelta:
        return timedelta(hours=self.late_publication_hours)

    def updated(self, changes: Mapping[str, Any]) -> Fidelity:
        """A copy with ``changes`` applied; values may be JSON (strings, numbers, lists).

        Raises ``ValueError`` naming the option for an unknown name or a bad value.
        """
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, frozenset):
                value = sorted(day.isoformat() for day in value)
            data[item.name] = value
        return data


_FIELD_TYPES = {item.name: item.type for item in fields(Fidelity)}


def _coerce(name: str, value: Any) -> Any:
    if name not in _FIELD_TYPES:
        raise ValueError(f"unknown option '{name}'")
    if name in OPTION_ENUMS:
        try:
            return OPTION_ENUMS[name](value)
        except ValueError:
            allowed = ", ".join(member.value for member in OPTION_ENUMS[name])
            raise ValueError(f"'{name}' must be one of: {allowed}") from None
    if name == "late_days":
        try:
            return frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in value)
        except (TypeError, ValueError):
            raise ValueError("'late_days' must be a list of YYYY-MM-DD dates") from None
    kind = {"bool": bool, "int": int, "float": float}[str(_FIELD_TYPES[name])]
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if (kind is bool and not isinstance(value, bool)) or (kind is not bool and not numeric):
        article = {bool: "a boolean", int: "an integer", float: "a number"}[kind]
        raise ValueError(f"'{name}' must be {article}")
    if kind is not bool and value < 0:
        raise ValueError(f"'{name}' must not be negative")
    return kind(value)


class FidelityOptions:
    """The sandbox's choices: a sandbox-wide default and per-team overrides."""

    def __init__(self) -> None:
        self.default = Fidelity()
        self.teams: dict[str, Fidelity] = {}

    def for_team(self, team_name: str) -> Fidelity:
        """The choices in force for ``team_name`` (its override, else the default)."""
        return self.teams.get(team_name, self.default)

    def set(self, **changes: Any) -> Fidelity:
        """Change the sandbox-wide default (teams with an override keep theirs)."""
        self.default = self.default.updated(changes)
        return self.default

    def set_team(self, team_name: str, **changes: Any) -> Fidelity:
        """Override choices for one team, starting from what is in force for it now."""
        self.teams[team_name] = self.for_team(team_name).updated(changes)
        return self.teams[team_name]

    def clear_team(self, team_name: str) -> None:
        """Drop ``team_name``'s override: it follows the default again."""
        self.teams.pop(team_name, None)

    def as_json(self) -> dict[str, Any]:
        return {
            "default": self.default.as_json(),
            "teams": {name: choice.as_json() for name, choice in self.teams.items()},
        }
