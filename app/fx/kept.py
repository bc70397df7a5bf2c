"""Rate books kept per process, reused while the stored rates are unchanged.

Resolving the rate of every (currency, report date) of a 90-day report is thousands of
lookups and decimal divisions, and reading the rates is thousands of rows: the same work for
every converted request of a dashboard. A book is therefore kept per (workspace, reporting
currency, maximum rate age, span) and reused while ``fx_data_version`` — a new random value
after any statement that writes a rate, public or manual (migration ``17_fx_version``) — is
the one it was read at. Each use checks the version in the one statement that would otherwise
read the rates (:func:`app.fx.repository.rates_unless_current`): a rate published or uploaded
late is seen by the very next conversion, in this process or any other.

A kept book holds every currency's rates of its span; its lookups fill in as requests ask
(:meth:`RateBook.rate` memoises), and what is derived from it (the SQL rate table of
:mod:`app.fx.in_sql`) is kept on it too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.fx import repository
from app.fx.rates import RateBook
from app.reports.repository import Also

#: Books kept per process (least recently used first out): one is ~a megabyte for 90 days.
MAX_KEPT = 32

_Key = tuple[uuid.UUID, str, int, dt.date, dt.date]
_kept: OrderedDict[_Key, tuple[uuid.UUID, RateBook]] = OrderedDict()


async def book(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    target: str,
    start: dt.date,
    end: dt.date,
    max_age_days: int,
) -> RateBook:
    """The book converting into ``target`` any currency of report dates ``start``..``end``
    (one statement: the version, plus the rates when the kept book is not current)."""
    return (
        await versioned_book(
            session,
            workspace_id,
            target=target,
            start=start,
            end=end,
            max_age_days=max_age_days,
        )
    )[1]


async def versioned_book(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    target: str,
    start: dt.date,
    end: dt.date,
    max_age_days: int,
) -> tuple[uuid.UUID | None, RateBook]:
    """:func:`book`, with the rates version it was read at (None: the version row is missing,
    so what is converted with it cannot be checked later)."""
    key = (workspace_id, target, max_age_days, start, end)
    found = _kept.get(key)
    version, rows = await repository.rates_unless_current(
        session,
        workspace_id,
        kept=found[0] if found is not None else None,
        start=start - dt.timedelta(days=max_age_days),
        end=end,
    )
    return _settle(key, found, version, rows)


@dataclass(frozen=True)
class BookRead:
    """A book's read made part of another statement (``reports.repository.Also``): ``also``
    goes into it, and :meth:`book` takes its value — a conversion without a statement of its
    own (issue 21's two statements per route). Without a target currency there is nothing to
    read: ``also`` is None and so is the book."""

    key: _Key | None
    found: tuple[uuid.UUID, RateBook] | None = None
    also: Also | None = None

    def book(self, value: str | None) -> RateBook | None:
        return self.versioned_book(value)[1]

    def versioned_book(self, value: str | None) -> tuple[uuid.UUID | None, RateBook | None]:
        """The book, with the rates version it was read at (see :func:`versioned_book`)."""
        if self.key is None or value is None:
            return None, None
        return _settle(self.key, self.found, *repository.rates_of_also(value))


def book_read(
    workspace_id: uuid.UUID,
    *,
    target: str | None,
    start: dt.date,
    end: dt.date,
    max_age_days: int,
) -> BookRead:
    """:func:`book` into ``target`` (if any), read inside another statement (see
    :class:`BookRead`)."""
    if target is None:
        return BookRead(None)
    key = (workspace_id, target, max_age_days, start, end)
    found = _kept.get(key)
    also = repository.rates_unless_current_also(
        workspace_id,
        kept=found[0] if found is not None else None,
        start=start - dt.timedelta(days=max_age_days),
        end=end,
    )
    return BookRead(key, found, also)


def _settle(
    key: _Key,
    found: tuple[uuid.UUID, RateBook] | None,
    version: uuid.UUID | None,
    rows: Sequence[Any] | None,
) -> tuple[uuid.UUID | None, RateBook]:
    """The kept book when the read found it current (no ``rows``), else a new one of
    ``rows``, kept under ``version``."""
    if rows is None and found is not None:
        _kept.move_to_end(key)
        return version, found[1]
    current = RateBook.of_rows(key[1], key[2], rows or [])
    if version is None:  # no version to check against next time: not kept
        _kept.pop(key, None)
    else:
        _kept[key] = (version, current)
        _kept.move_to_end(key)
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)
    return version, current


def forget() -> None:
    """Drop every kept book (tests that compare a first computation)."""
    _kept.clear()
