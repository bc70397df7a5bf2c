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
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.sandbox.searchads.entities import AdsAccount, Campaign
from app.sandbox.searchads.metrics import ZERO, Metrics, hours_part

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
        result = ZERO
        for _, cell in self._cells(
            campaign_id, start, end or start, tz, ad_group_id, keyword_id, country, device
        ):
            result = result.plus(cell)
        return result

    def daily(
        self, campaign_id: int, start: date, end: date, *, tz: str = "ORTZ", **filters: Any
    ) -> dict[date, Metrics]:
        days: dict[date, Metrics] = {
            start + timedelta(days=i): ZERO for i in range((end - start).days + 1)
        }
        for day, cell in self._cells(
            campaign_id,
            start,
            end,
            tz,
            filters.get("ad_group_id"),
            filters.get("keyword_id"),
            filters.get("country"),
            filters.get("device"),
        ):
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
        result = ZERO
        for campaign in self.campaigns(account):
            result = result.plus(self.metrics(campaign.id, start, end, tz=tz))
        return result

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
        self,
        campaign_id: int,
        start: date,
        end: date,
        tz: str,
        ad_group_id: int | None,
        keyword_id: int | None,
        country: str | None,
        device: str | None,
    ) -> Iterator[tuple[date, Metrics]]:
        """(reporting day, metrics) for every atom-hour (UTC) or atom-day (ORTZ) in range."""
        state = self._state
        world, observer = state.world, state.observer()
        campaign = world.campaigns[campaign_id]
        pad = timedelta(days=1 if tz == "UTC" else 0)
        day = start - pad
        while day <= end + pad:
            if campaign.delivers_on(day):
                view = observer.day(campaign.account, day)
                for group in world.campaign_ad_groups(campaign_id):
                    if ad_group_id is not None and group.id != ad_group_id:
                        continue
                    for atom in state.delivery.atoms(group.id, day):
                        if keyword_id is not None and atom.keyword_id != keyword_id:
                            continue
                        if country not in (None, atom.country) or device not in (
                            None,
                            atom.device,
                        ):
                            continue
                        restated = observer.restated(atom, view)
                        if tz != "UTC":
                            if start <= day <= end:
                                yield (
                                    day,
                                    hours_part(
                                        restated,
                                        view.cumulative,
                                        0,
                                        len(view.hours),
                                        view.available,
                                    ),
                                )
                            continue
                        for index, hour in enumerate(view.hours):
                            utc_day = hour.astimezone(UTC).date()
                            if start <= utc_day <= end:
                                yield (
                                    utc_day,
                                    hours_part(
                                        restated, view.cumulative, index, index + 1, view.available
                                    ),
                                )
            day += timedelta(days=1)
