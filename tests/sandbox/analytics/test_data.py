"""The numbers in the files against the simulator's truth: restatements, privacy rules,
Standard vs Detailed, weekly/monthly unique devices, data gaps and late corrections."""

from __future__ import annotations

import gzip
from collections import defaultdict
from datetime import date, timedelta

import pytest

from app.sandbox import SandboxState
from app.sandbox.analytics_catalog import Family
from app.sandbox.analytics_ledger import AnalyticsLedger
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.catalog import SandboxApp, team_apps
from tests.sandbox.analytics.conftest import Api, at

SESSIONS = "App Sessions Standard"
INSTALLS = "App Store Installation and Deletion Standard"


async def file_rows(api: Api, instance_id: str) -> list[dict[str, str]]:
    """Every row of an instance, parsed by header name (ANALYTICS §5)."""
    rows: list[dict[str, str]] = []
    header: list[str] = []
    for segment in await api.segments(instance_id):
        content = (await api.download(segment["attributes"]["url"])).content
        lines = gzip.decompress(content).decode().splitlines()
        if lines and lines[0].startswith("Date\t"):
            header, lines = lines[0].split("\t"), lines[1:]
        rows += [dict(zip(header, line.split("\t"), strict=True)) for line in lines]
    return rows


def totals(rows: list[dict[str, str]], column: str, **where: str) -> dict[str, int]:
    """Sum of ``column`` per Date over the rows matching ``where``."""
    out: dict[str, int] = defaultdict(int)
    for row in rows:
        if all(row[k.replace("_", " ")] == v for k, v in where.items()):
            out[row["Date"]] += int(row[column])
    return dict(out)


async def chain(api: Api, app: SandboxApp, report: str, access: str = "ONGOING") -> str:
    return await api.report_id(await api.request_id(app.id, access), report)


async def instance_on(
    api: Api, report_id: str, processing: date, granularity: str = "DAILY"
) -> str:
    found = await api.instances(
        report_id,
        **{"filter[processingDate]": processing.isoformat(), "filter[granularity]": granularity},
    )
    [instance] = found
    return str(instance["id"])


async def test_daily_instances_restate_dates_until_final(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...]
) -> None:
    app, truth = apps[1], AnalyticsTruth(state)
    report_id = await chain(api, app, SESSIONS)
    api.clock.now = at(date(2025, 6, 18))
    day = date(2025, 6, 11)
    vintages = []
    for back in range(1, 6):  # Date 06-11 is in the instances of 06-12 … 06-16 (window 5)
        rows = await file_rows(api, await instance_on(api, report_id, day + timedelta(days=back)))
        vintages.append(totals(rows, "Sessions")[day.isoformat()])
        expected = truth.day(app.id, day, vintage=back, families=[Family.SESSIONS])
        assert vintages[-1] == expected.sessions
        assert totals(rows, "Unique Devices")[day.isoformat()] == expected.active_devices
        us = totals(rows, "Sessions", Territory="US")[day.isoformat()]
        assert us == truth.day(app.id, day, "US", vintage=back, families=[Family.SESSIONS]).sessions
    assert vintages == sorted(vintages) and len(set(vintages)) > 1  # restated, growing
    assert vintages[-1] == truth.day(app.id, day, families=[Family.SESSIONS]).sessions  # final
    later = await file_rows(api, await instance_on(api, report_id, day + timedelta(days=6)))
    assert day.isoformat() not in {r["Date"] for r in later}
    recorded = [(p, t.sessions) for p, t in truth.vintages(app.id, SESSIONS, day)]
    assert recorded == [(day + timedelta(days=n + 1), v) for n, v in enumerate(vintages)]


async def test_every_family_matches_the_truth(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...]
) -> None:
    app, truth, day = apps[1], AnalyticsTruth(state), date(2025, 6, 10)
    request_id = await api.request_id(app.id)
    api.clock.now = at(date(2025, 6, 16))
    expected = truth.day(app.id, day)
    checks: list[tuple[str, str, dict[str, str], int]] = [
        (INSTALLS, "Counts", {"Event": "Install"}, expected.installs),
        (INSTALLS, "Counts", {"Event": "Delete"}, expected.deletions),
        (
            "App Store Discovery and Engagement Standard",
            "Counts",
            {"Event": "Impression"},
            expected.impressions,
        ),
        ("App Downloads Standard", "Counts", {}, expected.downloads),
        ("App Crashes", "Crashes", {}, expected.crashes),
        (SESSIONS, "Total Session Duration", {}, expected.session_seconds),
    ]
    for report, column, where, value in checks:
        report_id = await api.report_id(request_id, report)
        final = day + timedelta(days=truth.report(report).completeness_days)
        instance = await instance_on(api, report_id, final)
        assert (
            totals(await file_rows(api, instance), column, **where).get(day.isoformat(), 0) == value
        ), report
    assert expected.installs > expected.deletions > 0 and expected.impressions > expected.page_views


async def test_standard_and_detailed_are_cuts_of_the_same_events(
    api: Api, state: SandboxState, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    app, truth, day = apps[1], AnalyticsTruth(state), date(2025, 6, 9)
    ledger.options.detailed_noise = False
    request_id = await api.request_id(app.id)
    api.clock.now = at(date(2025, 6, 16))
    standard = await file_rows(
        api, await instance_on(api, await api.report_id(request_id, SESSIONS), date(2025, 6, 14))
    )
    detailed_id = await api.report_id(request_id, "App Sessions Detailed")
    detailed = await file_rows(api, await instance_on(api, detailed_id, date(2025, 6, 14)))
    assert {"Source Info", "Campaign", "Page Title"} <= set(detailed[0])
    every_detail = truth.rows(app.id, "App Sessions Detailed", "DAILY", day)
    assert (
        sum(int(r["Sessions"]) for r in every_detail)
        == totals(standard, "Sessions")[day.isoformat()]
    )
    # Detailed rows under 5 devices are withheld (ANALYTICS §8): the file sums to less.
    mine = [r for r in detailed if r["Date"] == day.isoformat()]
    assert all(int(r["Unique Devices"]) >= 5 for r in mine)
    assert (
        len(mine)
        == sum(1 for r in every_detail if int(r["Unique Devices"]) >= 5)
        < len(every_detail)
    )
    assert any(int(r["Unique Devices"]) < 5 for r in standard)  # Standard keeps small rows


async def test_detailed_noise_is_small_and_deterministic(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...]
) -> None:
    app, truth, day = apps[0], AnalyticsTruth(state), date(2025, 6, 9)
    report = "App Store Discovery and Engagement Detailed"
    exact = {
        tuple(r.values())[:-2]: r
        for r in truth.rows(app.id, report, "DAILY", day)
        if int(r["Unique Counts"]) >= 5
    }
    served = truth.rows(app.id, report, "DAILY", day, served=True)
    assert served == truth.rows(app.id, report, "DAILY", day, served=True)
    assert {tuple(r.values())[:-2] for r in served} == set(exact)
    diffs = [int(r["Counts"]) - int(exact[tuple(r.values())[:-2]]["Counts"]) for r in served]
    assert any(diffs) and max(map(abs, diffs)) <= 10
    assert abs(sum(diffs)) / len(diffs) < 1.0  # unbiased
    within_two = sum(abs(d) <= 2 for d in diffs) / len(diffs)
    assert 0.55 < within_two < 0.9  # σ = 2: about 68 % within ±2


async def test_suppress_standard_rows_variant(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    ledger.options.suppress_standard_rows = True
    report_id = await chain(api, apps[0], SESSIONS)
    api.clock.now = at(date(2025, 6, 12))
    rows = await file_rows(api, (await api.instances(report_id))[0]["id"])
    assert rows and all(int(r["Unique Devices"]) >= 5 for r in rows)


async def test_usage_reports_skip_dates_with_fewer_than_five_devices(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...]
) -> None:
    app, truth = apps[2], AnalyticsTruth(state)  # the least popular app: few crashes
    report_id = await chain(api, app, "App Crashes", "ONE_TIME_SNAPSHOT")
    api.clock.now = at(date(2025, 6, 13))
    daily = next(
        i for i in await api.instances(report_id) if i["attributes"]["granularity"] == "DAILY"
    )
    dates = {r["Date"] for r in await file_rows(api, daily["id"])}
    history = [
        date(2024, 1, 1) + timedelta(n) for n in range((date(2025, 6, 12) - date(2024, 1, 1)).days)
    ]
    quiet = [d for d in history if not truth.published(app.id, Family.CRASHES, d)]
    assert quiet and dates
    assert dates == {d.isoformat() for d in history} - {d.isoformat() for d in quiet}
    assert all(truth.day(app.id, d, families=[Family.CRASHES]).crash_devices < 5 for d in quiet)


@pytest.mark.parametrize(("granularity", "processing", "start"), [
    ("WEEKLY", date(2025, 6, 13), date(2025, 6, 2)),
    ("MONTHLY", date(2025, 7, 5), date(2025, 6, 1)),
])  # fmt: skip
async def test_weekly_and_monthly_unique_devices_are_not_sums_of_days(
    api: Api,
    state: SandboxState,
    apps: tuple[SandboxApp, ...],
    granularity: str,
    processing: date,
    start: date,
) -> None:
    app, truth = apps[2], AnalyticsTruth(state)
    report_id = await chain(api, app, SESSIONS)
    api.clock.now = at(processing)
    rows = await file_rows(api, await instance_on(api, report_id, processing, granularity))
    assert {r["Date"] for r in rows} == {start.isoformat()}
    only = [Family.SESSIONS]
    period = truth.period(app.id, granularity, start, families=only)
    length = 7 if granularity == "WEEKLY" else 30
    days = [truth.day(app.id, start + timedelta(n), families=only) for n in range(length)]
    assert (
        totals(rows, "Sessions")[start.isoformat()]
        == period.sessions
        == sum(d.sessions for d in days)
    )
    devices = totals(rows, "Unique Devices")[start.isoformat()]
    assert devices == period.active_devices
    assert max(d.active_devices for d in days) < devices < sum(d.active_devices for d in days)
    us = truth.period(app.id, granularity, start, "US", families=only)
    assert totals(rows, "Unique Devices", Territory="US")[start.isoformat()] == us.active_devices


async def test_data_gap_duplicates_an_instance_and_loses_a_date(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    app, gap = apps[1], date(2025, 6, 14)
    ledger.data_gap(app.id, gap)
    report_id = await chain(api, app, INSTALLS)
    api.clock.now = at(date(2025, 6, 25))
    twins = await api.instances(
        report_id, **{"filter[processingDate]": "2025-06-15", "filter[granularity]": "DAILY"}
    )
    assert len(twins) == 2 and twins[0]["id"] != twins[1]["id"]
    checksums = [[s["attributes"]["checksum"] for s in await api.segments(t["id"])] for t in twins]
    assert checksums[0] == checksums[1]
    dates: set[str] = set()
    for instance in await api.instances(report_id, **{"filter[granularity]": "DAILY"}):
        dates |= {r["Date"] for r in await file_rows(api, instance["id"])}
    assert gap.isoformat() not in dates and (gap - timedelta(days=1)).isoformat() in dates


async def test_late_correction_restates_a_final_date(
    api: Api, state: SandboxState, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    app, truth, day = apps[1], AnalyticsTruth(state), date(2025, 6, 1)
    ledger.restate(app.id, day, on=date(2025, 6, 20), factor=1.2)
    report_id = await chain(api, app, INSTALLS)
    api.clock.now = at(date(2025, 6, 21))
    rows = await file_rows(api, await instance_on(api, report_id, date(2025, 6, 20)))
    corrected = totals(rows, "Counts", Event="Install")[day.isoformat()]
    [(processing, restated)] = truth.vintages(app.id, INSTALLS, day)[-1:]
    assert processing == date(2025, 6, 20) and corrected == restated.installs
    assert corrected > truth.day(app.id, day).installs


def test_truth_is_deterministic_per_seed(state: SandboxState, apps: tuple[SandboxApp, ...]) -> None:
    other = SandboxState(seed=state.seed, clock=state.clock)
    mine, theirs = AnalyticsTruth(state), AnalyticsTruth(other)
    day = date(2025, 5, 5)
    assert mine.day(apps[0].id, day) == theirs.day(apps[0].id, day)
    assert mine.day(apps[0].id, day) != mine.day(apps[1].id, day)
    different = AnalyticsTruth(SandboxState(seed=state.seed + 1, clock=state.clock))
    first_other = team_apps(different.team)[0]
    assert different.day(first_other.id, day) != mine.day(apps[0].id, day)
