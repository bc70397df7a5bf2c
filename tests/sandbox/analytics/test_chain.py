"""The report → instance chain: report names and ids, instance timing by the sandbox clock,
filters, schedules (daily, Friday weekly, 5th-of-month monthly), retention, paging and the
single-resource and linkage endpoints, all validated against Apple's spec."""

from __future__ import annotations

from datetime import date, timedelta

from app.sandbox.analytics_ledger import AnalyticsLedger
from app.sandbox.catalog import SandboxApp
from tests.sandbox.analytics.conftest import REQUESTS, Api, at
from tests.sandbox.helpers import assert_error

INSTALLS = "App Store Installation and Deletion Standard"
# The fixture clock: Tuesday 2025-06-10 18:00 UTC. A request created then sees its first
# instance at 10:00 UTC on 2025-06-12 (24–48 h later).
FIRST_DAY = date(2025, 6, 12)


async def test_reports_by_name_and_category_with_apple_ids(
    api: Api, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    path, template = f"{REQUESTS}/{request_id}/reports", "/v1/analyticsReportRequests/{id}/reports"
    everything = await api.ok(path, template, limit="200")
    by_name = {r["attributes"]["name"]: r for r in everything["data"]}
    for name, number in (
        ("App Crashes", 2),
        ("App Store Installation and Deletion Standard", 6),
        ("App Sessions Standard", 8),
        ("App Store Discovery and Engagement Standard", 14),
        ("App Store Discovery and Engagement Detailed", 15),
        ("Streaming Playback Performance", 19),
        ("App Store Web Preview Engagement Standard", 179),
        ("App Opt In", 189),
        ("Retention Messaging", 320),
    ):
        assert by_name[name]["id"] == f"r{number}-{request_id}"
    for name in (
        "App Store Installation and Deletion Detailed",
        "App Sessions Detailed",
        "App Downloads Standard",
        "App Downloads Detailed",
    ):
        assert name in by_name
    usage = await api.ok(path, template, **{"filter[category]": "APP_USAGE"})
    assert {r["attributes"]["category"] for r in usage["data"]} == {"APP_USAGE"}
    two = await api.ok(path, template, **{"filter[name]": "App Crashes,App Sessions Detailed"})
    assert sorted(r["attributes"]["name"] for r in two["data"]) == [
        "App Crashes",
        "App Sessions Detailed",
    ]
    # Doc titles are not API names: a wrong name is an empty success (ANALYTICS §6).
    assert (await api.ok(path, template, **{"filter[name]": "App Store Downloads"}))["data"] == []
    report = await api.ok(f"/v1/analyticsReports/r8-{request_id}", "/v1/analyticsReports/{id}")
    assert report["data"]["attributes"] == {
        "name": "App Sessions Standard",
        "category": "APP_USAGE",
    }
    linkages = await api.ok(
        f"{REQUESTS}/{request_id}/relationships/reports",
        "/v1/analyticsReportRequests/{id}/relationships/reports",
        limit="3",
    )
    assert [d["id"] for d in linkages["data"]] == [r["id"] for r in everything["data"][:3]]
    assert "next" in linkages["links"]
    assert_error(await api.get(f"/v1/analyticsReports/r8-{request_id}x"), 404, "NOT_FOUND")
    assert_error(
        await api.get(path, **{"filter[category]": "GAMES"}), 400, "PARAMETER_ERROR.INVALID"
    )


async def test_report_numbering_per_team_variant(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    ledger.options.report_numbering = "per_team"
    request_id = await api.request_id(apps[0].id)
    report_id = await api.report_id(request_id, "App Sessions Standard")
    assert report_id != f"r8-{request_id}" and report_id.endswith(f"-{request_id}")
    assert report_id.startswith("r") and int(report_id[1:].split("-")[0]) % 1000 == 8


async def test_subscription_state_name_variants(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    path = f"{REQUESTS}/{request_id}/reports"
    names = {r["attributes"]["name"] for r in (await api.get(path, limit="200")).json()["data"]}
    assert "App Store Subscription State Standard" in names
    ledger.options.subscription_state_name = "App Store Subscription State Report Standard"
    names = {r["attributes"]["name"] for r in (await api.get(path, limit="200")).json()["data"]}
    assert "App Store Subscription State Report Standard" in names


async def test_instances_appear_24_to_48_hours_after_creation(
    api: Api, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    report_id = await api.report_id(request_id, INSTALLS)
    assert await api.instances(report_id) == []  # not ready yet: empty, not zero
    api.clock.now = at(FIRST_DAY, 9)
    assert await api.instances(report_id) == []
    api.clock.now = at(FIRST_DAY, 10)
    [first] = await api.instances(report_id)
    assert first["attributes"] == {"granularity": "DAILY", "processingDate": "2025-06-12"}
    single = await api.ok(
        f"/v1/analyticsReportInstances/{first['id']}", "/v1/analyticsReportInstances/{id}"
    )
    assert single["data"]["id"] == first["id"]


async def test_daily_weekly_and_monthly_schedules(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    request_id = await api.request_id(apps[0].id)
    report_id = await api.report_id(request_id, INSTALLS)
    api.clock.now = at(date(2025, 7, 6))
    found = [(i["attributes"]["granularity"], i["attributes"]["processingDate"])
             for i in await api.instances(report_id)]  # fmt: skip
    daily = [d for g, d in found if g == "DAILY"]
    assert daily == [(FIRST_DAY + timedelta(n)).isoformat() for n in range(25)]
    assert [d for g, d in found if g == "WEEKLY"] == [
        "2025-06-13",
        "2025-06-20",
        "2025-06-27",
        "2025-07-04",
    ]
    assert all(date.fromisoformat(d).weekday() == 4 for g, d in found if g == "WEEKLY")
    assert [d for g, d in found if g == "MONTHLY"] == ["2025-07-05"]
    weekly = await api.instances(report_id, **{"filter[granularity]": "WEEKLY,MONTHLY"})
    assert {i["attributes"]["granularity"] for i in weekly} == {"WEEKLY", "MONTHLY"}
    on_day = await api.instances(report_id, **{"filter[processingDate]": "2025-07-04,2025-07-05"})
    assert len(on_day) == 4  # two dailies, the weekly of 07-04 and the monthly of 07-05
    assert_error(
        await api.get(
            f"/v1/analyticsReports/{report_id}/instances", **{"filter[processingDate]": "2025-7-4"}
        ),
        400,
        "PARAMETER_ERROR.INVALID",
    )


async def test_downloads_standard_is_daily_only(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    request_id = await api.request_id(apps[0].id)
    api.clock.now = at(date(2025, 7, 6))
    standard = await api.instances(await api.report_id(request_id, "App Downloads Standard"))
    detailed = await api.instances(await api.report_id(request_id, "App Downloads Detailed"))
    assert {i["attributes"]["granularity"] for i in standard} == {"DAILY"}
    assert {i["attributes"]["granularity"] for i in detailed} == {"DAILY", "WEEKLY", "MONTHLY"}


async def test_instances_expire_after_35_days(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    request_id = await api.request_id(apps[0].id)
    report_id = await api.report_id(request_id, INSTALLS)
    api.clock.now = at(date(2025, 8, 20))
    daily = await api.instances(report_id, **{"filter[granularity]": "DAILY"})
    dates = [date.fromisoformat(i["attributes"]["processingDate"]) for i in daily]
    assert min(dates) == date(2025, 8, 20) - timedelta(days=35)
    assert max(dates) == date(2025, 8, 20)
    api.clock.now = at(FIRST_DAY)
    old = (await api.instances(report_id))[0]["id"]
    api.clock.now = at(FIRST_DAY + timedelta(days=36))
    assert_error(await api.get(f"/v1/analyticsReportInstances/{old}"), 404, "NOT_FOUND")


async def test_instances_page_with_links_next(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    request_id = await api.request_id(apps[0].id)
    report_id = await api.report_id(request_id, INSTALLS)
    api.clock.now = at(date(2025, 6, 30))
    everything = await api.instances(report_id)
    path = f"/v1/analyticsReports/{report_id}/instances"
    body = (await api.get(path, limit="7")).json()
    seen = [i["id"] for i in body["data"]]
    while "next" in body["links"]:
        body = (await api.client.get(body["links"]["next"], headers=api.headers())).json()
        seen += [i["id"] for i in body["data"]]
    assert seen == [i["id"] for i in everything]
    linkages = await api.ok(
        f"/v1/analyticsReports/{report_id}/relationships/instances",
        "/v1/analyticsReports/{id}/relationships/instances",
        limit="200",
    )
    assert [d["id"] for d in linkages["data"]] == seen


async def test_stopped_request_gets_no_new_instances(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    report_id = await api.report_id(request_id, INSTALLS)
    ledger.stop(request_id, at(date(2025, 6, 15), 12))
    api.clock.now = at(date(2025, 6, 25))
    daily = await api.instances(report_id, **{"filter[granularity]": "DAILY"})
    assert [i["attributes"]["processingDate"] for i in daily] == [
        "2025-06-12", "2025-06-13", "2025-06-14", "2025-06-15"
    ]  # fmt: skip


async def test_snapshot_publishes_history_once(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    request_id = await api.request_id(apps[1].id, "ONE_TIME_SNAPSHOT")
    report_id = await api.report_id(request_id, "App Crashes")
    api.clock.now = at(date(2025, 6, 20))
    found = {i["attributes"]["granularity"]: i["attributes"]["processingDate"]
             for i in await api.instances(report_id)}  # fmt: skip
    assert found == {"DAILY": "2025-06-12", "WEEKLY": "2025-06-12", "MONTHLY": "2025-06-12"}
