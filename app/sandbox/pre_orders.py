"""Pre-Order report (``PRE_ORDER``/``SUMMARY``, version ``1_0``; FACTS §4.5) generation.

Served when the team's ``pre_orders`` option is on (see :mod:`.fidelity`); otherwise the API
keeps answering 404 "There were no sales for the date specified." as before.

A team takes pre-orders for an upcoming title now and then: the timeline is cut into
:data:`BLOCK_DAYS`-day blocks and each block holds one campaign (its own Apple ID, title and
category, 30–75 days long, sold in a few storefronts), drawn from ``rng(team.seed,
"pre-order", block)``. Upcoming titles are not listed by ``/v1/apps`` (known gap: on Apple an
app in pre-order already exists in App Store Connect).

Layout (header of ``samples/pre_order_summary__matisiekpl_synthetic.tsv``; that file is
synthetic, so only the header is evidence): ``Provider, Title, Pre-Order Start Date,
Pre-Order End Date, Ordered, Canceled, Cumulative Ordered, Cumulative Canceled, Start Date,
End Date, Country Code, Apple Identifier, Category, Device, Supported Platforms, Client,
Provider Country``. One row per campaign and storefront with activity in the report period.
*Guessed*: ``Ordered``/``Canceled`` are whole numbers within the period; the cumulative
columns count from the campaign's start to the end of the report period (or of the campaign);
``Start Date``/``End Date`` are the report period (like Summary Sales' ``Begin``/``End
Date``); ``Pre-Order End Date`` is the release day; dates ``MM/DD/YYYY``; ``Client`` blank.
File names ``P_S_D_<vendor>_<YYYYMMDD>`` [H-FN], and by analogy ``P_S_W_``, ``P_S_M_``
(``YYYYMM``) and ``P_S_Y_`` (``YYYY``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from app.sandbox.markets import COUNTRIES, Country
from app.sandbox.periods import Frequency, sales_period
from app.sandbox.seeding import numeric_id, poisson, rng
from app.sandbox.state import SandboxTeam
from app.sandbox.text import APP_ADJECTIVES, APP_NOUNS, CATEGORY_LIST

PRE_ORDER_HEADER: tuple[str, ...] = (
    "Provider",
    "Title",
    "Pre-Order Start Date",
    "Pre-Order End Date",
    "Ordered",
    "Canceled",
    "Cumulative Ordered",
    "Cumulative Canceled",
    "Start Date",
    "End Date",
    "Country Code",
    "Apple Identifier",
    "Category",
    "Device",
    "Supported Platforms",
    "Client",
    "Provider Country",
)
FILE_PREFIX = {"DAILY": "P_S_D", "WEEKLY": "P_S_W", "MONTHLY": "P_S_M", "YEARLY": "P_S_Y"}
BLOCK_DAYS = 120


@dataclass(frozen=True, slots=True)
class PreOrderCampaign:
    """An upcoming title taking pre-orders from ``start`` until its release day ``end``."""

    apple_id: str
    title: str
    category: str
    start: date
    end: date
    storefronts: tuple[tuple[Country, str, float], ...]  # (storefront, device, demand)


@dataclass(frozen=True, slots=True)
class _Tally:
    """One storefront's orders on one day, and the running totals through that day."""

    ordered: int
    canceled: int
    cumulative_ordered: int
    cumulative_canceled: int


@lru_cache(maxsize=1024)
def campaign(team: SandboxTeam, block: int) -> PreOrderCampaign:
    r = rng(team.seed, "pre-order", block)
    start = date.fromordinal(block * BLOCK_DAYS) + timedelta(days=r.randrange(40))
    end = start + timedelta(days=r.randrange(30, 76))
    ranked = sorted(COUNTRIES, key=lambda c: r.random() ** (1.0 / c.weight), reverse=True)
    popularity = r.lognormvariate(0, 0.5)
    storefronts = tuple(
        (country, r.choice(("iPhone", "iPad")), max(country.weight / 7.0, 0.2) * popularity)
        for country in ranked[: r.randrange(3, 7)]
    )
    return PreOrderCampaign(
        apple_id=numeric_id(10, 6, team.seed, "pre-order-app", block),
        title=f"{r.choice(APP_ADJECTIVES)} {r.choice(APP_NOUNS)}",
        category=r.choice(CATEGORY_LIST),
        start=start,
        end=end,
        storefronts=storefronts,
    )


def campaigns_between(team: SandboxTeam, first: date, last: date) -> list[PreOrderCampaign]:
    """Campaigns taking pre-orders on any day of ``first``…``last``."""
    blocks = range(first.toordinal() // BLOCK_DAYS - 1, last.toordinal() // BLOCK_DAYS + 1)
    found = [campaign(team, block) for block in blocks]
    return [c for c in found if c.start <= last and c.end >= first]


@lru_cache(maxsize=256)
def _tallies(team: SandboxTeam, block: int, alpha2: str) -> dict[date, _Tally]:
    """Day by day orders of one storefront over the whole campaign."""
    found = campaign(team, block)
    _, _, demand = next(s for s in found.storefronts if s[0].alpha2 == alpha2)
    tallies: dict[date, _Tally] = {}
    ordered_total = canceled_total = 0
    day = found.start
    while day <= found.end:
        r = rng(team.seed, "pre-order-day", found.apple_id, alpha2, day.toordinal())
        boost = 2.5 if (day - found.start).days < 3 else 1.8 if (found.end - day).days < 5 else 1
        ordered = poisson(r, 4 * demand * boost)
        outstanding = ordered_total + ordered - canceled_total
        canceled = min(outstanding, poisson(r, 0.03 * outstanding))
        ordered_total, canceled_total = ordered_total + ordered, canceled_total + canceled
        tallies[day] = _Tally(ordered, canceled, ordered_total, canceled_total)
        day += timedelta(days=1)
    return tallies


def _row(
    found: PreOrderCampaign,
    storefront: tuple[Country, str, float],
    start: date,
    end: date,
    tallies: list[_Tally],
) -> dict[str, str]:
    country, device, _ = storefront
    last = tallies[-1]
    values = (
        "APPLE",
        found.title,
        f"{found.start:%m/%d/%Y}",
        f"{found.end:%m/%d/%Y}",
        str(sum(t.ordered for t in tallies)),
        str(sum(t.canceled for t in tallies)),
        str(last.cumulative_ordered),
        str(last.cumulative_canceled),
        f"{start:%m/%d/%Y}",
        f"{end:%m/%d/%Y}",
        country.alpha2,
        found.apple_id,
        found.category,
        device,
        "iOS",
        " ",
        "US",
    )
    return dict(zip(PRE_ORDER_HEADER, values, strict=True))


def pre_order_rows(team: SandboxTeam, frequency: str, anchor: date) -> list[dict[str, str]]:
    """Rows of the ``PRE_ORDER`` report ``frequency`` containing ``anchor`` (empty: none)."""
    period = sales_period(Frequency(frequency), anchor)
    rows = []
    for found in campaigns_between(team, period.start, period.end):
        block = found.start.toordinal() // BLOCK_DAYS
        for storefront in found.storefronts:
            daily = _tallies(team, block, storefront[0].alpha2)
            tallies = [t for day, t in daily.items() if period.start <= day <= period.end]
            if any(t.ordered or t.canceled for t in tallies):
                rows.append(_row(found, storefront, period.start, period.end, tallies))
    return rows


def pre_order_filename(vendor: str, frequency: str, end: date) -> str:
    stamp = {"MONTHLY": "%Y%m", "YEARLY": "%Y"}.get(frequency, "%Y%m%d")
    return f"{FILE_PREFIX[frequency]}_{vendor}_{end.strftime(stamp)}.txt.gz"
