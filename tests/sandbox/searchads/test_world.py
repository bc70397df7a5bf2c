"""The generated world (brief "Data"): deterministic from the seed, several accounts with their
own currency and time zone, campaigns per app including apps Orchard does not know."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.sandbox.searchads import AccountSpec, AdsApp, AppleAdsState

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)


def _snapshot(state: AppleAdsState) -> list[object]:
    return [
        (c.id, c.name, c.app, c.countries, [k.text for k in state.world.campaign_keywords(c.id)])
        for c in state.truth.campaigns()
    ]


def test_same_seed_same_world_and_numbers() -> None:
    first, second = (AppleAdsState(seed=11, clock=lambda: NOW) for _ in range(2))
    assert _snapshot(first) == _snapshot(second)
    campaign = first.truth.campaigns()[0].id
    day = date(2026, 11, 20)
    assert first.truth.metrics(campaign, day) == second.truth.metrics(campaign, day)
    assert _snapshot(AppleAdsState(seed=12, clock=lambda: NOW)) != _snapshot(first)


def test_accounts_currencies_zones_and_apps() -> None:
    apps = [AdsApp(1_234_567_890, "Orchard Demo"), AdsApp(1_234_567_891, "Second App")]
    state = AppleAdsState(seed=5, clock=lambda: NOW, apps=apps)
    accounts = state.accounts()
    assert {(a.currency, a.time_zone) for a in accounts} >= {
        ("USD", "America/Los_Angeles"),
        ("EUR", "Europe/Berlin"),
        ("JPY", "Asia/Tokyo"),
    }
    assert len({a.org_id for a in accounts} | {a.ad_account_id for a in accounts}) == 8
    adam_ids = {c.app.adam_id for c in state.truth.campaigns() if c.app}
    assert {1_234_567_890, 1_234_567_891} < adam_ids  # plus apps Orchard has not linked
    unlinked = [c for c in state.truth.campaigns() if c.app and not c.app.linked]
    assert len(unlinked) == 3  # one per App Store account
    jpy = state.account("JPY")
    spend = state.truth.spend(state.truth.campaigns(jpy)[0].id, date(2026, 11, 20))
    assert spend == spend.to_integral_value()  # yen have no minor units


def test_custom_accounts() -> None:
    state = AppleAdsState(
        seed=5,
        clock=lambda: NOW,
        accounts=[AccountSpec("AU", "AUD", "Australia/Sydney", ("AU", "NZ"), campaigns=2)],
    )
    [account] = state.accounts()
    assert account.currency == "AUD" and len(state.truth.campaigns(account)) == 2
    campaign = state.truth.campaigns(account)[0].id
    assert state.truth.metrics(campaign, date(2026, 11, 1), date(2026, 11, 30)).impressions > 0
