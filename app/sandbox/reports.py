"""``GET /v1/salesReports`` and ``GET /v1/financeReports``: gzip TSV downloads.

Validation order (first failure wins), all 400 unless noted:

1. ``Accept`` must allow ``application/a-gzip`` (absent, ``*/*``, ``application/*`` or
   ``application/a-gzip``); ``Accept: application/json`` alone → **406** ``NOT_ACCEPTABLE``
   with Apple's text "The provided Accept header is not supported for this request…".
2. Unknown parameters → ``PARAMETER_ERROR.ILLEGAL``; missing required filters →
   ``PARAMETER_ERROR.REQUIRED``; values outside the spec enums → ``PARAMETER_ERROR.INVALID``.
3. ``filter[vendorNumber]`` not the key's team → ``PARAMETER_ERROR.INVALID`` "Invalid vendor
   number".
4. Sales: a reportType/reportSubType/frequency combination outside FACTS §4.5 →
   ``PARAMETER_ERROR.INVALID.INVALID_COMBINATION``; a ``filter[version]`` that is not the
   report's latest → ``PARAMETER_ERROR.INVALID`` on ``filter[version]`` ("The version parameter
   you have specified is invalid. The latest version for this report is 1_0."); an omitted
   version is fine for 1_0 reports, otherwise "Please include the version parameter…".
   :attr:`SandboxState.report_versions` overrides the latest version to simulate drift.
5. ``filter[reportDate]``: a date in another frequency's format (``2025-06`` for DAILY) →
   ``INVALID_COMBINATION``; anything unparseable → ``PARAMETER_ERROR.INVALID``; WEEKLY needs
   the week-ending Sunday. Omitted → the latest available period.
6. Availability on the sandbox clock (see :mod:`app.sandbox.periods`): not yet available or
   future → **404** "Report is not available yet…"; past retention → **410** ``GONE``
   "Report is no longer available…" (or 404 / 400 per the team's ``expiry`` option).
7. Nothing sold → **404** "There were no sales for the date specified.". ``SALES/SUMMARY``
   and the subscription family (``SUBSCRIPTION``, ``SUBSCRIPTION_EVENT``, ``SUBSCRIBER``,
   ``SUBSCRIPTION_OFFER_CODE_REDEMPTION``, ``WIN_BACK_ELIGIBILITY``; see
   :mod:`app.sandbox.subscriptions`, which also answers "Invalid vendor number" for a team
   without auto-renewable subscriptions) have data; every other valid combination answers this
   404, as does ``FINANCE_DETAIL`` (which requires ``regionCode=Z1``).

The team's fidelity options (:mod:`app.sandbox.fidelity`, :mod:`app.sandbox.report_variants`)
select the shapes Apple leaves open: version errors without ``source``, late files, ``PRE_ORDER``
rows, ``FINANCE_DETAIL`` rows, ZZ file endings and extra USD payment regions. Their defaults
are the behaviour described above.

200: gzip bytes, ``Content-Type: application/a-gzip``, ``Content-Encoding: agzip`` (as
observed from Apple; httpx ignores it and hands over the gzip bytes), ``Content-Disposition``
``attachment;filename=S_D_<vendor>_<YYYYMMDD>.txt.gz`` (``S_W_`` Sunday date, ``S_M_<YYYYMM>``,
``S_Y_<YYYY>``; finance ``<vendor>_<MMYY>_<region>.txt.gz``), ``x-reports-filename`` and
``x-reports-download-version``.
"""

from __future__ import annotations

import re
from datetime import date

from starlette.responses import Response

from app.sandbox import report_variants, subscriptions
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import (
    invalid_combination,
    invalid_parameter,
    invalid_value,
    no_sales,
    not_acceptable,
    not_available_yet,
    required_parameter,
)
from app.sandbox.finance import (
    ALL_REGIONS,
    DETAIL_REGION,
    finance_report_text,
    finance_rows_for,
)
from app.sandbox.finance_layouts import zz_report_text
from app.sandbox.jsonapi import ParamSpec, words
from app.sandbox.markets import REGION_CURRENCY
from app.sandbox.payment_regions import FINANCE_REGION_CURRENCY, sales_rows
from app.sandbox.periods import (
    Availability,
    Frequency,
    Period,
    availability,
    fiscal_calendar_month,
    fiscal_period,
    latest_available,
    sales_period,
)
from app.sandbox.permissions import FINANCE_REPORTS, SALES_REPORTS
from app.sandbox.sales import SALES_HEADER, gzip_text, rows_to_tsv

GZIP_TYPE = "application/a-gzip"
_ACCEPTABLE = {"*/*", "application/*", GZIP_TYPE}

#: (reportType, reportSubType, frequency) → versions Apple serves, latest first (FACTS §4.5).
SALES_COMBINATIONS: dict[tuple[str, str, str], tuple[str, ...]] = {
    **{("SALES", "SUMMARY", f): ("1_0",) for f in Frequency},
    **{("PRE_ORDER", "SUMMARY", f): ("1_0",) for f in Frequency},
    ("SUBSCRIPTION", "SUMMARY", "DAILY"): ("1_3",),
    ("SUBSCRIPTION_EVENT", "SUMMARY", "DAILY"): ("1_3",),
    ("SUBSCRIBER", "DETAILED", "DAILY"): ("1_3",),
    ("SUBSCRIPTION_OFFER_CODE_REDEMPTION", "SUMMARY", "DAILY"): ("1_0",),
    ("NEWSSTAND", "DETAILED", "DAILY"): ("1_0",),
    ("NEWSSTAND", "DETAILED", "WEEKLY"): ("1_0",),
    ("INSTALLS", "SUMMARY", "MONTHLY"): ("1_2",),
    ("INSTALLS", "DETAILED", "MONTHLY"): ("1_2",),
    **{
        ("INSTALLS", sub, "YEARLY"): ("1_1", "1_0")
        for sub in ("DETAILED", "SUMMARY_CHANNEL", "SUMMARY_INSTALL_TYPE", "SUMMARY_TERRITORY")
    },
    ("FIRST_ANNUAL", "DETAILED", "DAILY"): ("1_0",),
    ("FIRST_ANNUAL", "SUMMARY", "YEARLY"): ("1_0",),
    ("WIN_BACK_ELIGIBILITY", "SUMMARY", "DAILY"): ("1_0",),
}
_SALES_REQUIRED = (
    "filter[vendorNumber]",
    "filter[reportType]",
    "filter[reportSubType]",
    "filter[frequency]",
)
SALES_PARAMS = ParamSpec(
    names=frozenset({*_SALES_REQUIRED, "filter[reportDate]", "filter[version]"}),
    enums={
        "filter[reportType]": frozenset(key[0] for key in SALES_COMBINATIONS),
        "filter[reportSubType]": words(
            "SUMMARY DETAILED SUMMARY_INSTALL_TYPE SUMMARY_TERRITORY SUMMARY_CHANNEL"
        ),
        "filter[frequency]": frozenset(Frequency),
    },
)
_FINANCE_REQUIRED = (
    "filter[vendorNumber]",
    "filter[reportType]",
    "filter[regionCode]",
    "filter[reportDate]",
)
FINANCE_PARAMS = ParamSpec(
    names=frozenset(_FINANCE_REQUIRED),
    enums={"filter[reportType]": words("FINANCIAL FINANCE_DETAIL")},
)
_DATE_FORMATS = {
    Frequency.DAILY: (r"\d{4}-\d{2}-\d{2}", "YYYY-MM-DD"),
    Frequency.WEEKLY: (r"\d{4}-\d{2}-\d{2}", "YYYY-MM-DD"),
    Frequency.MONTHLY: (r"\d{4}-\d{2}", "YYYY-MM"),
    Frequency.YEARLY: (r"\d{4}", "YYYY"),
}
_FILE_PREFIX = {"DAILY": "S_D", "WEEKLY": "S_W", "MONTHLY": "S_M", "YEARLY": "S_Y"}


def _check_accept(ctx: V1Context) -> None:
    accept = ctx.request.headers.get("accept")
    if not accept:
        return
    ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if not ranges & _ACCEPTABLE:
        raise not_acceptable(accept, GZIP_TYPE)


def _single(ctx: V1Context, name: str) -> str:
    values = ctx.query.values(name)
    if not values:
        raise required_parameter(name)
    if len(values) > 1:
        raise invalid_parameter(name, f"Only one value is allowed for '{name}'.")
    return values[0]


def _check_vendor(ctx: V1Context) -> None:
    if _single(ctx, "filter[vendorNumber]") != ctx.team.vendor_number:
        raise invalid_parameter("filter[vendorNumber]", "Invalid vendor number")


def _download(ctx: V1Context, text: str, filename: str, version: str | None) -> Response:
    headers = {
        "Content-Encoding": "agzip",
        "Content-Disposition": f"attachment;filename={filename}",
        "x-reports-filename": filename,
    }
    if version:
        headers["x-reports-download-version"] = version
    return Response(gzip_text(text), media_type=GZIP_TYPE, headers=headers)


def _check_available(period: Period, ctx: V1Context) -> None:
    state = availability(period, ctx.now)
    if state is Availability.NOT_YET:
        raise not_available_yet()
    if state is Availability.GONE:  # 410 unless the team's ``expiry`` option says otherwise
        raise report_variants.expired(period, report_variants.fidelity_of(ctx))


def parse_report_date(frequency: Frequency, raw: str) -> date:
    """``filter[reportDate]`` → anchor date of the period (raises the API's 400s)."""
    pattern, shape = _DATE_FORMATS[frequency]
    if not re.fullmatch(pattern, raw):
        if any(re.fullmatch(p, raw) for p, _ in _DATE_FORMATS.values()):
            raise invalid_combination(
                f"The reportDate '{raw}' is not valid for the frequency {frequency.value}. "
                f"Use the format {shape}."
            )
        raise invalid_parameter(
            "filter[reportDate]", f"'{raw}' is not a valid date. Use the format {shape}."
        )
    parts = [int(p) for p in raw.split("-")] + [1, 1]
    try:
        day = date(parts[0], parts[1], parts[2])
    except ValueError:
        raise invalid_parameter("filter[reportDate]", f"'{raw}' is not a valid date.") from None
    if frequency is Frequency.WEEKLY and day.weekday() != 6:
        raise invalid_parameter(
            "filter[reportDate]",
            f"'{raw}' is not a Sunday. Weekly reports are identified by the week-ending Sunday.",
        )
    return day


def _sales_version(ctx: V1Context, report_type: str, sub_type: str, frequency: str) -> str:
    served = SALES_COMBINATIONS[(report_type, sub_type, frequency)]
    latest = ctx.state.report_versions.get((report_type, sub_type), served[0])
    accepted = {latest} if (report_type, sub_type) in ctx.state.report_versions else set(served)
    requested = ctx.query.first("filter[version]")
    choice = report_variants.fidelity_of(ctx)  # with or without source.parameter
    if requested is None:
        if latest != "1_0":
            raise report_variants.version_error(
                f"Please include the version parameter. The latest version for this report "
                f"is {latest}.",
                choice,
            )
        return latest
    if requested not in accepted:
        raise report_variants.version_error(
            "The version parameter you have specified is invalid. The latest version for "
            f"this report is {latest}.",
            choice,
        )
    return requested


async def get_sales_report(ctx: V1Context) -> Response:
    _check_accept(ctx)
    report_type, sub_type, raw_frequency = (
        _single(ctx, name) for name in _SALES_REQUIRED[1:]
    )  # enums already validated
    _check_vendor(ctx)
    if (report_type, sub_type, raw_frequency) not in SALES_COMBINATIONS:
        raise invalid_combination(
            f"The combination of reportType '{report_type}', reportSubType '{sub_type}' and "
            f"frequency '{raw_frequency}' is not valid."
        )
    version = _sales_version(ctx, report_type, sub_type, raw_frequency)
    frequency = Frequency(raw_frequency)
    raw_date = ctx.query.first("filter[reportDate]")
    if raw_date:
        period = sales_period(frequency, parse_report_date(frequency, raw_date))
    else:
        period = latest_available(frequency, ctx.now)
    _check_available(period, ctx)
    choice = report_variants.fidelity_of(ctx)
    if report_variants.held_back(period, ctx.now, choice):
        raise no_sales()  # a late file: "no sales" for now, the real file later
    if (report_type, sub_type) in subscriptions.REPORTS:
        text, filename = subscriptions.daily_report(ctx.state, ctx.team, report_type, period.end)
        return _download(ctx, text, filename, version)
    if (report_type, sub_type) == ("PRE_ORDER", "SUMMARY"):
        text, filename = report_variants.pre_order_file(ctx, frequency, period)
        return _download(ctx, text, filename, version)
    if (report_type, sub_type) != ("SALES", "SUMMARY"):
        raise no_sales()
    rows = sales_rows(ctx.team, frequency, period.end, usd_regions=choice.payment_regions)
    if not rows:
        raise no_sales()
    stamp = {"MONTHLY": "%Y%m", "YEARLY": "%Y"}.get(frequency.value, "%Y%m%d")
    vendor = ctx.team.vendor_number
    filename = f"{_FILE_PREFIX[frequency.value]}_{vendor}_{period.end.strftime(stamp)}.txt.gz"
    return _download(ctx, rows_to_tsv(SALES_HEADER, rows), filename, version)


def _fiscal_month(raw: str) -> tuple[int, int]:
    found = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if not found or not 1 <= int(found[2]) <= 12:
        raise invalid_parameter(
            "filter[reportDate]", f"'{raw}' is not a valid fiscal month. Use the format YYYY-MM."
        )
    return int(found[1]), int(found[2])


async def get_finance_report(ctx: V1Context) -> Response:
    _check_accept(ctx)
    report_type, region, raw_date = (_single(ctx, name) for name in _FINANCE_REQUIRED[1:])
    _check_vendor(ctx)
    if report_type == "FINANCE_DETAIL" and region != DETAIL_REGION:
        raise invalid_parameter(
            "filter[regionCode]", "FINANCE_DETAIL reports require the region code Z1."
        )
    choice = report_variants.fidelity_of(ctx)
    regions = FINANCE_REGION_CURRENCY if choice.payment_regions else REGION_CURRENCY
    if report_type == "FINANCIAL" and region not in {ALL_REGIONS, *regions}:
        raise invalid_value("filter[regionCode]", region)
    fiscal_year, number = _fiscal_month(raw_date)
    period = fiscal_period(fiscal_year, number)
    _check_available(period, ctx)
    year, month = fiscal_calendar_month(fiscal_year, number)
    filename = f"{ctx.team.vendor_number}_{month:02d}{year % 100:02d}_{region}.txt.gz"
    if report_type == "FINANCE_DETAIL":
        return _download(ctx, report_variants.finance_detail_file(ctx, period), filename, None)
    rows = finance_rows_for(ctx.team, period, region, usd_regions=choice.payment_regions)
    if not rows:
        raise no_sales()
    if region == ALL_REGIONS:  # ZZ: the ending is the team's ``zz_footer`` choice
        return _download(ctx, zz_report_text(rows, choice.zz_footer), filename, None)
    return _download(ctx, finance_report_text(rows, region), filename, None)


ROUTES = [
    V1Route("GET", "/v1/salesReports", get_sales_report, SALES_REPORTS, SALES_PARAMS),
    V1Route("GET", "/v1/financeReports", get_finance_report, FINANCE_REPORTS, FINANCE_PARAMS),
]
