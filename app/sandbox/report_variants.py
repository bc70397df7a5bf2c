"""Report answers that follow the team's fidelity options (see :mod:`.fidelity`).

- **Expiry** (``expiry``). Spec 4.4.1 declares only 200/400/401/403/429 for ``salesReports``
  and ``financeReports`` (FACTS §8): the 410 for a report past retention (FACTS §4.5,
  integrators' reports) is not on record. Variants: ``gone_410`` (410 ``GONE``, the default),
  ``not_found_404`` (404 with the "no sales" text, indistinguishable from a zero day) and
  ``bad_request_400`` (400 ``PARAMETER_ERROR.INVALID`` on ``filter[reportDate]``, worded like
  the legacy Reporter's "Daily reports are only available for past 365 days" [I-365]). A
  client must therefore decide "expired" from Apple's retention (FACTS §5.7), not the status.
- **Version errors** (``version_error``). ``with_source`` (default) names ``filter[version]``
  in ``source.parameter``; ``detail_only`` is the shape on record (Ponytech/appstoreconnectapi
  #62 "The version parameter you have specified is invalid. The latest version for this
  report is 1_1." and #10 "Please include the version parameter. The latest version for this
  report is 1_2."): the newest version only in ``detail``, no ``source``.
- **Late publication** (``late_publication_hours``, ``late_days``). What Apple answers before
  a day's report is generated is undocumented; "There were no sales for the date specified."
  may come back for a day that later gets a file (FACTS §8). A late period answers that 404
  from its usual availability time until ``late_publication_hours`` later, then its file.
- **PRE_ORDER** (``pre_orders``) and **FINANCE_DETAIL** (``finance_detail``) files, built by
  :mod:`.pre_orders` and :mod:`.finance_layouts`.
"""

from __future__ import annotations

from datetime import datetime

from app.sandbox.context import V1Context
from app.sandbox.errors import (
    ApiError,
    invalid_parameter,
    no_longer_available,
    no_sales,
)
from app.sandbox.fidelity import (
    ExpiryAnswer,
    Fidelity,
    FinanceDetailShape,
    VersionErrorShape,
)
from app.sandbox.finance_layouts import finance_detail_rows, finance_detail_text
from app.sandbox.periods import (
    RETENTION_DAYS,
    YEARLY_RETENTION_YEARS,
    Frequency,
    Period,
    available_from,
)
from app.sandbox.pre_orders import PRE_ORDER_HEADER, pre_order_filename, pre_order_rows
from app.sandbox.sales import rows_to_tsv


def fidelity_of(ctx: V1Context) -> Fidelity:
    """The choices in force for the requesting key's team."""
    return ctx.state.fidelity.for_team(ctx.team.name)


def expired(period: Period, choice: Fidelity) -> ApiError:
    """The answer for ``period`` once it is past Apple's retention."""
    if choice.expiry is ExpiryAnswer.NOT_FOUND:
        return no_sales()
    if choice.expiry is ExpiryAnswer.BAD_REQUEST:
        kind = Frequency(period.frequency).value.capitalize()
        kept = (
            f"{YEARLY_RETENTION_YEARS} years"
            if period.frequency == Frequency.YEARLY
            else f"{RETENTION_DAYS} days"
        )
        return invalid_parameter(
            "filter[reportDate]", f"{kind} reports are only available for past {kept}."
        )
    return no_longer_available()


def version_error(detail: str, choice: Fidelity) -> ApiError:
    """A stale or missing ``filter[version]``, in the chosen shape (always 400)."""
    if choice.version_error is VersionErrorShape.WITH_SOURCE:
        return invalid_parameter("filter[version]", detail)
    return ApiError(400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", detail)


def held_back(period: Period, now: datetime, choice: Fidelity) -> bool:
    """Whether ``period`` still answers "no sales" although it is available (late file)."""
    if choice.late_publication_hours <= 0:
        return False
    if choice.late_days and period.end not in choice.late_days:
        return False
    return now < available_from(period) + choice.late_publication


def pre_order_file(ctx: V1Context, frequency: Frequency, period: Period) -> tuple[str, str]:
    """``(text, filename)`` of a ``PRE_ORDER`` report, or 404 "no sales" (option off/empty)."""
    rows = pre_order_rows(ctx.team, frequency, period.end) if fidelity_of(ctx).pre_orders else []
    if not rows:
        raise no_sales()
    filename = pre_order_filename(ctx.team.vendor_number, frequency, period.end)
    return rows_to_tsv(PRE_ORDER_HEADER, rows), filename


def finance_detail_file(ctx: V1Context, period: Period) -> str:
    """The text of a ``FINANCE_DETAIL`` report, or 404 "no sales" (the default shape)."""
    choice = fidelity_of(ctx)
    if choice.finance_detail is FinanceDetailShape.NO_SALES:
        raise no_sales()
    rows = finance_detail_rows(ctx.team, period, usd_regions=choice.payment_regions)
    if not rows:
        raise no_sales()
    return finance_detail_text(ctx.team, period, rows, choice.finance_detail)
