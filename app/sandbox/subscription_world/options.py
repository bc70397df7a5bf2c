"""Knobs of the subscription world, per sandbox state, and the variants of unconfirmed layouts.

Set them with :func:`app.sandbox.subscription_world.configure` (or ``PATCH
/sandbox/subscriptions``); changing them drops the state's cached worlds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from app.sandbox.subscription_world.model import DEFAULT_BEHAVIOUR, Behaviour

#: SUBSCRIBER refund rows: ``zero`` = Units 0 like the only real refund row (FACTS §5.5
#: sample), ``negative`` = Units -1 like Summary Sales refunds (FACTS §0.10). Unconfirmed.
REFUND_UNITS = ("zero", "negative")
#: SUBSCRIPTION_OFFER_CODE_REDEMPTION: ``help`` = the nine columns of Apple's help page
#: (version 1_0); ``extended`` adds group, duration and offer type/duration columns (a
#: plausible richer layout, unconfirmed).
OFFER_CODE_LAYOUTS = ("help", "extended")
#: Date cells of that report: ``iso`` (YYYY-MM-DD, like the other subscription reports) or
#: ``mdy`` (MM/DD/YYYY, like Summary Sales). Unconfirmed.
DATE_STYLES = ("iso", "mdy")
#: WIN_BACK_ELIGIBILITY: ``help`` = Apple's help-page columns (no date column, "as of the
#: reporting date"); ``dated`` = the same with a leading ``Date`` column. Unconfirmed.
WIN_BACK_LAYOUTS = ("help", "dated")
#: Name of the offer reference-name column of SUBSCRIPTION, SUBSCRIPTION_EVENT and SUBSCRIBER:
#: FACTS §5.3–5.5 give ``Subscription Offer Name`` for 1_3; a copy of Apple's Subscription Event
#: Report help page (version 1_3) found with the search tool says ``Promotional Offer Name``,
#: the 1_2 samples' name. Unconfirmed which one 1_3 files carry.
OFFER_NAME_COLUMNS = ("Subscription Offer Name", "Promotional Offer Name")


@dataclass(frozen=True)
class WorldOptions:
    """How the subscription world is built and how its files are written."""

    start: date | None = None  # first simulated day; None: resolved from the clock on first use
    scale: float = 400.0  # default target of active subscriptions = scale × app popularity
    subscribers: int | None = None  # the same target for every app (overrides ``scale``)
    app_subscribers: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    behaviour: Behaviour = DEFAULT_BEHAVIOUR
    #: Share of a day's events that appear in the files of that day, the next and the one
    #: after (FACTS §8: event dates up to two days before the report date).
    late_shares: tuple[float, float, float] = (0.8, 0.15, 0.05)
    refund_units: str = "zero"
    offer_code_layout: str = "help"
    offer_code_dates: str = "iso"
    win_back_layout: str = "help"
    win_back_min_count: int = 5  # Apple: rows appear only for 5 or more churned subscriptions
    offer_name_column: str = "Subscription Offer Name"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("refund_units", REFUND_UNITS),
            ("offer_code_layout", OFFER_CODE_LAYOUTS),
            ("offer_code_dates", DATE_STYLES),
            ("win_back_layout", WIN_BACK_LAYOUTS),
            ("offer_name_column", OFFER_NAME_COLUMNS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        if len(self.late_shares) != 3 or abs(sum(self.late_shares) - 1) > 1e-9:
            raise ValueError("late_shares must be three shares adding up to 1")
        if min(self.late_shares) < 0:
            raise ValueError("late_shares must not be negative")

    def target_for(self, app_id: str, popularity: float) -> int:
        if app_id in self.app_subscribers:
            return self.app_subscribers[app_id]
        if self.subscribers is not None:
            return self.subscribers
        return max(20, round(self.scale * popularity))
