"""The simulator's own truth, for tests to compare Orchard's results with.

It walks the same generated delivery as the reports but on its own, simpler path: hour by
hour, no grouping, no paging, no API shapes. ``tz`` is ``"ORTZ"`` (the account's time zone,
the reports' default) or ``"UTC"``. Values are what the API reports *now* (state clock):
restated days move until they leave the restatement window.

    truth = state.truth
    truth.spend(campaign_id, date(2026, 11, 30))            # Decimal, account currency
    truth.metrics(campaign_id, start, end, tz="UTC")         # Metrics (base counts)
    truth.daily(campaign_id, start, end)                     # {date: Metrics}
    truth.values(truth.metrics(...), account)                # v1 metric names → values
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.sandbox.searchads.delivery import Atom, DayView
from app.sandbox.searchads.entities import AdsAccount, Campaign
from app.sandbox.searchads.metrics import ZERO, Metrics, hours_part, total

if TYPE_CHECKING:
    from app.sandbox.searchads.state import AppleAdsState


class AdsTruth:
    def __init__(self, state: AppleAdsState) -> None:
        self._state = state

    # --- entities -----------------------------------------------------------------------
    def campaigns(self, account: AdsAccount | None = None) -> list[Campaign]:
        world = self._state.world
        accounts = [account] if account else list(world.accounts.values())
        return [c for a in accounts for c in world.account_campaigns(a)]

    def campaign(self, campaign_id: int) -> Campaign:
        return self._state.world.campaigns[campaign_id]

    # --- metrics ------------------------------------------------------------------------
    def metrics(
        self,
        campaign_id: int,
        start: date,
        end: date | None = None,
        *,
        tz: str = "ORTZ",
        ad_group_id: int | None = None,
        keyword_id: int | None = None,
        country: str | None = None,
        device: str | None = None,
    ) -> Metrics:
        """Base counts of one campaign (or one of its ad groups / keywords) over days."""
        where = Where(ad_group_id, keyword_id, country, device)
        return total(cell for _, cell in self._cells(campaign_id, start, end or start, tz, where))

    def daily(
        self,
        campaign_id: int,
        start: date,
        end: date,
        *,
        tz: str = "ORTZ",
        ad_group_id: int | None = None,
        keyword_id: int | None = None,
        country: str | None = None,
        device: str | None = None,
    ) -> dict[date, Metrics]:
        """Every day from ``start`` to ``end`` (zero where nothing was delivered)."""
        days = {start + timedelta(days=i): ZERO for i in range((end - start).days + 1)}
        where = Where(ad_group_id, keyword_id, country, device)
        for day, cell in self._cells(campaign_id, start, end, tz, where):
            days[day] = days[day].plus(cell)
        return days

    def spend(
        self, campaign_id: int, day: date, *, tz: str = "ORTZ", country: str | None = None
    ) -> Decimal:
        metrics = self.metrics(campaign_id, day, day, tz=tz, country=country)
        return self.money(metrics.spend, self.campaign(campaign_id).account)

    def account_metrics(
        self, account: AdsAccount, start: date, end: date, *, tz: str = "ORTZ"
    ) -> Metrics:
        return total(self.metrics(c.id, start, end, tz=tz) for c in self.campaigns(account))

    @staticmethod
    def money(minor: int, account: AdsAccount) -> Decimal:
        return Decimal(minor).scaleb(-account.minor_digits)

    def values(self, metrics: Metrics, account: AdsAccount) -> dict[str, Any]:
        """Additive metrics under their v1 names (money as Decimal)."""
        return {
            "impressions": metrics.impressions,
            "taps": metrics.taps,
            "localSpend": self.money(metrics.spend, account),
            "tapInstalls": metrics.tap_installs,
            "tapNewDownloads": metrics.tap_new,
            "tapRedownloads": metrics.tap_re,
            "viewInstalls": metrics.view_installs,
            "viewNewDownloads": metrics.view_new,
            "viewRedownloads": metrics.view_re,
            "totalInstalls": metrics.total_installs,
            "totalNewDownloads": metrics.total_new,
            "totalRedownloads": metrics.total_re,
            "tapPreOrdersPlaced": metrics.tap_pre,
            "viewPreOrdersPlaced": metrics.view_pre,
            "totalPreOrdersPlaced": metrics.total_pre,
        }

    def _cells(
        self, campaign_id: int, start: date, end: date, tz: str, where: Where
    ) -> Iterator[tuple[date, Metrics]]:
        """(reporting day, metrics) of every matching atom, hour by hour in UTC, or as whole
        org-local days in ORTZ."""
        state = self._state
        observer = state.observer()
        campaign = state.world.campaigns[campaign_id]
        pad = timedelta(days=1 if tz == "UTC" else 0)
        day = start - pad
        while day <= end + pad:
            if campaign.delivers_on(day):
                view = observer.day(campaign.account, day)
                for group_id in state.world.ad_group_ids[campaign_id]:
                    for atom in state.delivery.atoms(group_id, day):
                        if where.matches(atom):
                            restated = observer.restated(atom, view)
                            yield from _day_cells(restated, view, start, end, tz == "UTC")
            day += timedelta(days=1)


@dataclass(frozen=True)
class Where:
    ad_group_id: int | None = None
    keyword_id: int | None = None
    country: str | None = None
    device: str | None = None

    def matches(self, atom: Atom) -> bool:
        return (
            self.ad_group_id in (None, atom.ad_group_id)
            and self.keyword_id in (None, atom.keyword_id)
            and self.country in (None, atom.country)
            and self.device in (None, atom.device)
        )


def _day_cells(
    restated: Metrics, view: DayView, start: date, end: date, utc: bool
) -> Iterator[tuple[date, Metrics]]:
    if not utc:
        if start <= view.day <= end:
            yield (
                view.day,
                hours_part(restated, view.cumulative, 0, len(view.hours), view.available),
            )
        return
    for index, hour in enumerate(view.hours):
        utc_day = hour.astimezone(UTC).date()
        if start <= utc_day <= end:
            yield utc_day, hours_part(restated, view.cumulative, index, index + 1, view.available)
