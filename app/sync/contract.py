"""The sync engine's contract with the datasets it runs: what a dataset declares, what a unit
receives and returns, and the registry the entry points hand to the engine.

A dataset is declared once with its name, the capability it needs, its cadence and two
functions: ``plan`` (which units are due for an account now; it may read the database) and
``run`` (do one unit). A unit is idempotent: running it twice leaves the same rows, so a unit
whose worker died can simply run again elsewhere.

The engine never imports a domain: the one module that lists every dataset
(``app.registry``) builds a :class:`DatasetRegistry` and passes it in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.client import AscClient
from app.models import AscAccount


class Priority(IntEnum):
    """Lower runs first. Routine work (today's report, a catalog refresh) overtakes backfills."""

    MANUAL = 0
    ROUTINE = 1
    BACKFILL = 2


class Outcome(StrEnum):
    """What a unit learned. The first five are availability states of a report date."""

    PUBLISHED = "published"
    NO_DATA = "no_data"
    NOT_YET_PUBLISHED = "not_yet_published"
    EXPIRED = "expired"
    FAILED = "failed"
    DONE = "done"  # undated datasets (catalog, reviews)


class PermanentUnitError(Exception):
    """A unit failure that running the unit again cannot fix (an unreadable report file:
    Apple never regenerates one). The runner fails the unit at once, recording ``code``."""

    code = "permanent_failure"


@dataclass(frozen=True)
class PlannedUnit:
    unit_key: str
    priority: Priority = Priority.ROUTINE
    # Re-run a finished unit when its last run finished longer ago than this (None: never).
    refresh_after: dt.timedelta | None = None
    run_after: dt.datetime | None = None


@dataclass
class UnitResult:
    outcome: Outcome = Outcome.DONE
    rows: int = 0
    # For not-yet-published dates: when to ask Apple again.
    retry_at: dt.datetime | None = None
    detail: str | None = None
    report_version: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanContext:
    """What a planner sees: the account, the time, the dataset's cadence (as configured) and a
    session to read what is stored (e.g. the account's apps, for one unit per app)."""

    session: AsyncSession
    account: AscAccount
    now: dt.datetime
    cadence: dt.timedelta


@dataclass
class UnitContext:
    """Everything a unit needs. ``session`` is inside the unit's transaction: write through it,
    and the job's completion commits in the same transaction."""

    session: AsyncSession
    account: AscAccount
    client: AscClient
    dataset: str
    unit_key: str
    now: dt.datetime
    log: logging.LoggerAdapter[logging.Logger]


Planner = Callable[[PlanContext], Awaitable[list[PlannedUnit]]]
UnitRunner = Callable[[UnitContext], Awaitable[UnitResult]]
BackfillPlanner = Callable[[dt.date, dt.date, dt.datetime], list[str]]


@dataclass(frozen=True)
class Dataset:
    name: str
    #: Capability key in ``asc_accounts.capabilities`` (None: any working key will do).
    capability: str | None
    cadence: dt.timedelta
    plan: Planner
    run: UnitRunner
    #: Units are report dates (``YYYY-MM-DD``/``YYYY-MM``/``YYYY``): availability is tracked.
    dated: bool = False
    needs_vendor_number: bool = False
    #: How far back Apple keeps this dataset (backfill bound), for dated datasets.
    retention: dt.timedelta | None = None
    #: Units for an explicit backfill window; None means "the routine plan, now".
    backfill: BackfillPlanner | None = None
    #: Every unit key of a date range, published or not (availability lists them all);
    #: None means the backfill's keys.
    unit_keys: Callable[[dt.date, dt.date], list[str]] | None = None
    #: Unit keys to date: how a unit key maps to the day reported in availability.
    unit_date: Callable[[str], dt.date] | None = None
    #: For sync-status lag: the newest date Apple should have published by ``now``.
    latest_expected: Callable[[dt.datetime], dt.date] | None = None


class DatasetRegistry:
    """Every dataset the engine may run, by name. Built once by the entry points."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self._by_name: dict[str, Dataset] = {}
        for dataset in datasets:
            if dataset.name in self._by_name:
                raise ValueError(f"dataset {dataset.name} registered twice")
            self._by_name[dataset.name] = dataset

    def get(self, name: str) -> Dataset | None:
        return self._by_name.get(name)

    def all(self) -> list[Dataset]:
        return sorted(self._by_name.values(), key=lambda d: d.name)

    def names(self) -> list[str]:
        return sorted(self._by_name)


def missing_requirement(dataset: Dataset, account: AscAccount) -> str | None:
    """Why this account cannot sync this dataset (None: it can)."""
    if dataset.needs_vendor_number and not account.vendor_number:
        return "the account has no vendor number"
    if dataset.capability is None:
        return None
    capability = (account.capabilities or {}).get(dataset.capability)
    if capability is None:
        return None  # not verified yet: try, and let Apple say
    if not capability.get("available", False):
        reason = capability.get("reason") or "not available to this key"
        return f"needs the '{dataset.capability}' capability: {reason}"
    return None
