"""Everything the currency sandbox remembers: seed, clock, variants, knobs and the request log.

Rates are not stored: they are recomputed from the seed (see :mod:`.walk`), so any day from
``history_start`` on costs nothing until it is asked for. The knobs (skipped days, late
publications, revisions, failures) are plain data that tests change between requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from app.sandbox.fx.calendar import PublishClock
from app.sandbox.fx.currencies import MIN_HISTORY_START
from app.sandbox.fx.ecb import EcbBook
from app.sandbox.fx.providers import ProviderBook
from app.sandbox.fx.truth import RateQuote, Truth
from app.sandbox.fx.walk import RandomWalks

DEFAULT_HISTORY_START = date(2020, 1, 2)
PROVIDER_LEAD_DAYS = 60
FailureKind = Literal["500", "502", "503", "404", "timeout", "reset"]
FAILURE_KINDS: tuple[FailureKind, ...] = ("500", "502", "503", "404", "timeout", "reset")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FxVariants:
    """Choices where FACTS leaves the real behaviour unconfirmed; each has a test.

    * ``publish_clock``: 16:00 Frankfurt wall time (CET/CEST) or 16:00 CET all year (§2).
    * ``xml_quotes``: attribute quotes of the ``Cube`` elements; the daily capture uses single
      quotes [R-XPT], the 90-day and history files are not captured (§2).
    * ``history_numbers``: ``as_observed`` = XML files with fixed decimals [R-XPT], history CSV
      without trailing zeros [R-PYFIFO]; or ``fixed`` / ``trimmed`` in every history file.
    * ``csv_line_ending``: ``lf`` or ``crlf`` in the CSV files (not captured byte-exact).
    * ``v1_source``: Frankfurter v1 serves ECB data only, or the blend of all providers (§3:
      "whether v1 still serves ECB data only is unconfirmed").
    * ``v2_empty``: a v2 ``/rates`` query with no data answers 404 ``not found`` (spec) or
      ``[]``.
    * ``v2_identity_row``: v2 adds the base's own row (rate 1.0) to ``/rates`` answers.
    * ``v2_provider_dates``: ``expand=providers`` entries carry the provider's observation
      ``date`` (§3: "each provider's rate and observation date") or only ``key``/``rate``.
    * ``gap_source``: the 14 gap currencies come from the central banks of §3 or all from the
      IMF (§3: which source Frankfurter uses is unconfirmed).
    """

    publish_clock: PublishClock = "frankfurt"
    xml_quotes: Literal["single", "double"] = "single"
    history_numbers: Literal["as_observed", "fixed", "trimmed"] = "as_observed"
    csv_line_ending: Literal["lf", "crlf"] = "lf"
    v1_source: Literal["ecb", "blended"] = "ecb"
    v2_empty: Literal["not_found", "empty_list"] = "not_found"
    v2_identity_row: bool = True
    v2_provider_dates: bool = True
    gap_source: Literal["central_banks", "imf"] = "central_banks"

    def with_changes(self, changes: dict[str, Any]) -> FxVariants:
        """A copy with ``changes`` applied; ValueError names an unknown field or value."""
        for name, value in changes.items():
            choices = VARIANT_CHOICES.get(name)
            if choices is None:
                raise ValueError(f"unknown variant: {name}")
            if value not in choices or type(value) is not type(choices[0]):
                raise ValueError(f"{name} must be one of {list(choices)}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


VARIANT_CHOICES: dict[str, tuple[Any, ...]] = {
    "publish_clock": ("frankfurt", "cet"),
    "xml_quotes": ("single", "double"),
    "history_numbers": ("as_observed", "fixed", "trimmed"),
    "csv_line_ending": ("lf", "crlf"),
    "v1_source": ("ecb", "blended"),
    "v2_empty": ("not_found", "empty_list"),
    "v2_identity_row": (True, False),
    "v2_provider_dates": (True, False),
    "gap_source": ("central_banks", "imf"),
}


@dataclass
class Failure:
    """The next ``remaining`` requests under ``path_prefix`` fail with ``kind``."""

    remaining: int
    kind: FailureKind
    path_prefix: str = "/"


@dataclass(frozen=True)
class Revision:
    """A published ECB rate replaced by ``rate`` from ``at`` on."""

    day: date
    currency: str
    rate: Decimal
    at: datetime


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    at: datetime  # sandbox clock
    failure: FailureKind | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "at": self.at.isoformat(),
            "failure": self.failure,
        }


@dataclass
class Knobs:
    """What tests steer: skipped days per source, late publications, revisions, failures."""

    skipped: dict[str, set[date]] = field(default_factory=dict)  # source key → days
    delays: dict[date, timedelta] = field(default_factory=dict)  # ECB day → extra delay
    revisions: list[Revision] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class FxState:
    """The currency sandbox: ECB reference rates and a Frankfurter server, from one seed.

    ``clock`` returns the sandbox's aware UTC "now" (default: the real time); publication
    gating, "latest" answers and the 90-day window all follow it.
    """

    def __init__(
        self,
        seed: int = 42,
        clock: Callable[[], datetime] | None = None,
        *,
        history_start: date = DEFAULT_HISTORY_START,
        publish_time: time = time(16, 0),
        variants: FxVariants | None = None,
        stall_seconds: float = 0.0,
    ) -> None:
        if history_start < MIN_HISTORY_START:
            raise ValueError(f"history_start must be on or after {MIN_HISTORY_START}")
        self.seed = seed
        self.clock: Callable[[], datetime] = clock or utc_now
        self.history_start = history_start
        #: "around 16:00 CET" [ECB-PAGE]; movable to model an earlier or later release.
        self.publish_time = publish_time
        self.variants = variants or FxVariants()
        #: How long a ``timeout`` failure stays silent before dropping the connection.
        self.stall_seconds = stall_seconds
        self.knobs = Knobs()
        self.requests: list[RequestRecord] = []
        #: Frankfurter's other providers start 60 days before the ECB history.
        self.walks = RandomWalks(seed, history_start - timedelta(days=PROVIDER_LEAD_DAYS))
        self.ecb = EcbBook(self)
        self.providers = ProviderBook(self)
        self.truth = Truth(self)

    # --- clock -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def set_now(self, instant: datetime) -> None:
        """Freeze the clock at ``instant`` (aware); used by the admin surface over HTTP."""
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        self.clock = lambda: instant

    # --- knobs -----------------------------------------------------------------------------

    def skip_day(self, day: date, source: str = "ECB") -> None:
        """``source`` (``ECB`` or a Frankfurter provider key) publishes nothing for ``day``."""
        self.knobs.skipped.setdefault(source.upper(), set()).add(day)

    def delay_publication(self, day: date, by: timedelta) -> None:
        """The ECB publishes ``day``'s rates ``by`` later than usual (``timedelta(days=1)``:
        a day late, after the next day's 16:00 if that is how the delay falls)."""
        self.knobs.delays[day] = by

    def revise(
        self, day: date, currency: str, rate: Decimal | str, at: datetime | None = None
    ) -> Revision:
        """Replace the ECB's published ``currency`` rate of ``day`` from ``at`` (default now)."""
        revision = Revision(day, currency.upper(), Decimal(rate), at or self.now())
        self.knobs.revisions.append(revision)
        return revision

    def fail_next(self, count: int, kind: FailureKind = "503", path_prefix: str = "/") -> None:
        """The next ``count`` requests whose path starts with ``path_prefix`` fail."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"kind must be one of {list(FAILURE_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self.knobs.failures.append(Failure(count, kind, path_prefix))

    def take_failure(self, path: str) -> FailureKind | None:
        for failure in self.knobs.failures:
            if failure.remaining > 0 and path.startswith(failure.path_prefix):
                failure.remaining -= 1
                return failure.kind
        return None

    # --- the simulator's own truth (see Truth for the rules) --------------------------------

    def rate(self, day: date, currency: str) -> Decimal | None:
        """Units of ``currency`` per EUR published for exactly ``day`` (None: no rate)."""
        return self.truth.rate(day, currency)

    def quote(self, day: date, currency: str) -> RateQuote | None:
        """The rate a client syncing now would use for ``day``: the latest published rate on or
        before it, with the date used and the source (FACTS §5)."""
        return self.truth.quote(day, currency)

    def published_dates(self, start: date | None = None, end: date | None = None) -> list[date]:
        """ECB days whose rates are out by the clock, oldest first."""
        return self.ecb.visible_days(start, end)
