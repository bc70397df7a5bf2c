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
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


@dataclass(frozen=True)
class PlanBatchContext:
    """What a batch planner sees: many accounts at once (a planning round's), so what it reads
    costs one statement for all of them, not one per account."""

    session: AsyncSession
    accounts: Sequence[AscAccount]
    now: dt.datetime
    cadence: dt.timedelta
    #: A planning round's: the dataset whose kept units (queued, running, paused, or finished
    #: and still fresh: ``queue.kept_unit``) the planner leaves out, since the round would
    #: skip them anyway; None (a link, a backfill, one account's plan): every unit.
    skip_kept_of: str | None = None


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
#: Every account's due units (an account with none may be left out), by account id.
BatchPlanner = Callable[[PlanBatchContext], Awaitable[Mapping[uuid.UUID, list[PlannedUnit]]]]
UnitRunner = Callable[[UnitContext], Awaitable[UnitResult]]
#: Runs in the unit's transaction when one of its report dates became a fact (``published``
#: or ``no_data``) for the first time: e.g. writes a ``….day_published`` webhook event.
AvailableHook = Callable[[UnitContext, dt.date, UnitResult], Awaitable[object]]
BackfillPlanner = Callable[[dt.date, dt.date, dt.datetime], list[str]]


@dataclass(frozen=True)
class DatedState:
    """One entry of a dataset's availability that is finer than one state per report date
    (analytics: per app × report × date). ``state`` is an availability state's value."""

    report_date: dt.date
    state: str
    fetched_at: dt.datetime | None = None
    row_count: int | None = None
    detail: str | None = None
    app_id: uuid.UUID | None = None
    report: str | None = None
    processing_date: dt.date | None = None
    vintages: int | None = None


#: (session, account id, first date, last date) → every entry of the range, in order.
AvailabilityLister = Callable[
    [AsyncSession, uuid.UUID, dt.date, dt.date], Awaitable[list[DatedState]]
]


@dataclass(frozen=True)
class ReportIdentity:
    """Which Apple report a dataset reads, and the version it asks for until Apple names
    another (sync-status shows the version in use)."""

    report_type: str
    report_subtype: str
    frequency: str
    default_version: str


@dataclass(frozen=True)
class Dataset:
    name: str
    #: Capability key in ``asc_accounts.capabilities`` (None: any working key will do).
    capability: str | None
    cadence: dt.timedelta
    #: One account's due units (a new account's first plan, an on-demand sync).
    plan: Planner
    run: UnitRunner
    #: The same plan for many accounts in one go (a planning round). A planner that reads the
    #: database sets it, so a round's reads do not grow with the accounts (``plan`` is then
    #: ``account_planner(plan_many)``); without it a round calls ``plan`` per account.
    plan_many: BatchPlanner | None = None
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
    #: Dated datasets: called when a report date first became available (see AvailableHook).
    on_available: AvailableHook | None = None
    #: The ``salesReports`` report behind the dataset, when there is one.
    report: ReportIdentity | None = None
    #: Availability the dataset computes itself, finer than one state per date (its units
    #: need not be dates); availability then lists what this returns.
    availability: AvailabilityLister | None = None


class DeferUnit(Exception):
    """The source asked us to wait (it throttled us, or a shared request budget is spent):
    the unit runs again at ``until``. Nothing of this run commits and the attempt does not
    count, so a throttled day is retried, never lost or failed."""

    def __init__(self, until: dt.datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


def account_planner(plan_many: BatchPlanner) -> Planner:
    """A batch planner asked for one account: a dataset with ``plan_many=f`` has
    ``plan=account_planner(f)``, so its two plans never disagree."""

    async def plan(ctx: PlanContext) -> list[PlannedUnit]:
        batch = PlanBatchContext(ctx.session, [ctx.account], ctx.now, ctx.cadence)
        return list((await plan_many(batch)).get(ctx.account.id, []))

    return plan


async def plan_accounts(
    session: AsyncSession,
    dataset: Dataset,
    accounts: Sequence[AscAccount],
    now: dt.datetime,
    *,
    skip_kept: bool = False,
) -> Mapping[uuid.UUID, list[PlannedUnit]]:
    """``dataset``'s due units of every one of ``accounts``: its batch planner's one call, or
    its account planner's per account (planners without one read nothing). With
    ``skip_kept`` (a planning round) a batch planner leaves out the units already kept."""
    if dataset.plan_many is not None:
        batch = PlanBatchContext(
            session, accounts, now, dataset.cadence, dataset.name if skip_kept else None
        )
        return await dataset.plan_many(batch)
    return {
        account.id: await dataset.plan(PlanContext(session, account, now, dataset.cadence))
        for account in accounts
    }


# --- public datasets -------------------------------------------------------------------------
#
# Public data (the App Store's charts and star ratings) belongs to no App Store Connect account:
# it is fetched once for every workspace. Its units are owned by no account (``sync_jobs``
# rows with a null account), run without credentials, and share one request lane per dataset
# family (the lane stands where an account's key stands for concurrency).

#: Prefix of a public lane's key in ``sync_jobs.key_id`` (App Store Connect key ids are
#: upper-case letters and digits, so the two never meet).
PUBLIC_KEY_PREFIX = "~"


@dataclass(frozen=True)
class PublicPlanContext:
    """What a public planner sees: the time, the dataset's cadence and a session (it may read
    what every workspace tracks)."""

    session: AsyncSession
    now: dt.datetime
    cadence: dt.timedelta


@dataclass
class PublicUnitContext:
    """Everything a public unit needs. ``session`` is inside the unit's transaction;
    ``sessions`` opens short transactions that commit on their own (a shared request budget
    that other processes must see at once); ``http`` is the process's one HTTP client."""

    session: AsyncSession
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    dataset: str
    unit_key: str
    now: dt.datetime
    cadence: dt.timedelta
    log: logging.LoggerAdapter[logging.Logger]


@dataclass(frozen=True)
class SourceStatus:
    """One source of a public dataset (a chart feed, a storefront) as its domain sees it."""

    key: str
    state: str
    detail: str | None = None
    checked_at: dt.datetime | None = None
    last_ok_at: dt.datetime | None = None


PublicPlanner = Callable[[PublicPlanContext], Awaitable[list[PlannedUnit]]]
PublicUnitRunner = Callable[[PublicUnitContext], Awaitable[UnitResult]]


@dataclass(frozen=True)
class SourceQuery:
    """The sources of a public dataset one workspace may see, as one ``SELECT`` (binding
    ``params`` by ``:name``): sync-status reads every dataset's together with the datasets' own
    state, in one statement. ``read`` turns its rows (tuples, in no particular order) into
    the sources, given the time and the dataset's cadence."""

    sql: str
    params: dict[str, Any]
    read: Callable[[list[tuple[Any, ...]], dt.datetime, dt.timedelta], list[SourceStatus]]


#: The sources one workspace may see (its storefronts' charts), for sync-status; called with
#: the workspace.
SourceReporter = Callable[[uuid.UUID], SourceQuery]


@dataclass(frozen=True)
class PublicDataset:
    name: str
    cadence: dt.timedelta
    plan: PublicPlanner
    run: PublicUnitRunner
    #: Units of one lane share its concurrency cap (like one App Store Connect key's).
    lane: str = "public"
    #: Per-source health for sync-status (None: the dataset reports none).
    sources: SourceReporter | None = None
    #: Switched off by configuration: nothing is planned, sync-status says so.
    enabled: bool = True
    disabled_reason: str | None = None

    @property
    def key_id(self) -> str:
        return f"{PUBLIC_KEY_PREFIX}{self.lane}"[:10]


class DatasetRegistry:
    """Every dataset the engine may run, by name. Built once by the entry points.

    ``get``/``all``/``names`` are the account datasets; ``public``/``get_public`` the public
    ones (one namespace: a name is registered once)."""

    def __init__(self, datasets: Iterable[Dataset | PublicDataset]) -> None:
        self._by_name: dict[str, Dataset] = {}
        self._public: dict[str, PublicDataset] = {}
        for dataset in datasets:
            if dataset.name in self._by_name or dataset.name in self._public:
                raise ValueError(f"dataset {dataset.name} registered twice")
            if isinstance(dataset, PublicDataset):
                self._public[dataset.name] = dataset
            else:
                self._by_name[dataset.name] = dataset

    def get(self, name: str) -> Dataset | None:
        return self._by_name.get(name)

    def all(self) -> list[Dataset]:
        return sorted(self._by_name.values(), key=lambda d: d.name)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get_public(self, name: str) -> PublicDataset | None:
        return self._public.get(name)

    def public(self) -> list[PublicDataset]:
        return sorted(self._public.values(), key=lambda d: d.name)


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
