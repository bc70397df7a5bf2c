"""Analytics report requests: Admin-only creation, 409 on duplicates, listing, reading roles,
deletion and the unconfirmed variants (ghost snapshots, stopped requests, ACCESS_TO_REPORTS)."""

from __future__ import annotations

import pytest

from app.sandbox import SandboxState
from app.sandbox.analytics_catalog import report_catalogue
from app.sandbox.analytics_ledger import AnalyticsLedger
from app.sandbox.catalog import SandboxApp
from tests.sandbox.analytics.conftest import REQUESTS, Api, create_body
from tests.sandbox.helpers import assert_error, response_schema_ref, validator


async def test_admin_creates_an_ongoing_request(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    created = await api.create(apps[0].id)
    assert created.status_code == 201, created.text
    body = created.json()
    validator(response_schema_ref(REQUESTS, 201, method="post")).validate(body)
    assert body["data"]["attributes"] == {"accessType": "ONGOING", "stoppedDueToInactivity": False}
    request_id = body["data"]["id"]
    read = await api.ok(f"{REQUESTS}/{request_id}", "/v1/analyticsReportRequests/{id}")
    assert read["data"]["id"] == request_id


@pytest.mark.parametrize("roles", [("SALES",), ("FINANCE",), ("APP_MANAGER",), ("DEVELOPER",)])
async def test_only_admin_keys_create(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...], roles: tuple[str, ...]
) -> None:
    key = state.add_key(roles=roles)
    assert_error(await api.create(apps[0].id, key=key), 403, "FORBIDDEN_ERROR")


async def test_a_second_request_of_the_same_type_is_a_409_state_error(
    api: Api, apps: tuple[SandboxApp, ...]
) -> None:
    await api.request_id(apps[0].id, "ONGOING")
    error = assert_error(await api.create(apps[0].id, "ONGOING"), 409, "STATE_ERROR")
    assert error["detail"] == "You already have such an entity"
    # One of each access type per app; other apps are independent.
    assert (await api.create(apps[0].id, "ONE_TIME_SNAPSHOT")).status_code == 201
    assert_error(await api.create(apps[0].id, "ONE_TIME_SNAPSHOT"), 409, "STATE_ERROR")
    assert (await api.create(apps[1].id, "ONGOING")).status_code == 201


async def test_list_by_app_with_filters_includes_and_sparse_fields(
    api: Api, apps: tuple[SandboxApp, ...]
) -> None:
    ongoing = await api.request_id(apps[0].id, "ONGOING")
    snapshot = await api.request_id(apps[0].id, "ONE_TIME_SNAPSHOT")
    path, template = (
        f"/v1/apps/{apps[0].id}/analyticsReportRequests",
        "/v1/apps/{id}/analyticsReportRequests",
    )
    everything = await api.ok(path, template)
    assert [r["id"] for r in everything["data"]] == [ongoing, snapshot]
    only = await api.ok(path, template, **{"filter[accessType]": "ONGOING"})
    assert [r["id"] for r in only["data"]] == [ongoing]
    included = await api.ok(
        path,
        template,
        include="reports",
        **{
            "limit[reports]": "5",
            "fields[analyticsReports]": "name",
            "filter[accessType]": "ONGOING",
        },
    )
    reports = included["data"][0]["relationships"]["reports"]
    assert len(reports["data"]) == 5 and reports["meta"]["paging"]["limit"] == 5
    assert reports["meta"]["paging"]["total"] == len(report_catalogue())
    assert [r["id"] for r in included["included"]] == [r["id"] for r in reports["data"]]
    assert all(set(r["attributes"]) == {"name"} for r in included["included"])
    sparse = await api.ok(path, template, **{"fields[analyticsReportRequests]": "accessType"})
    assert sparse["data"][0]["attributes"] == {"accessType": "ONGOING"}
    assert "relationships" not in sparse["data"][0]
    linkages = await api.ok(
        f"/v1/apps/{apps[0].id}/relationships/analyticsReportRequests",
        "/v1/apps/{id}/relationships/analyticsReportRequests",
    )
    assert linkages["data"] == [
        {"type": "analyticsReportRequests", "id": ongoing},
        {"type": "analyticsReportRequests", "id": snapshot},
    ]
    paged = await api.ok(path, template, limit="1")
    assert paged["meta"]["paging"] == {
        "total": 2,
        "limit": 1,
        "nextCursor": paged["meta"]["paging"]["nextCursor"],
    }
    following = await api.client.get(paged["links"]["next"], headers=api.headers())
    assert [r["id"] for r in following.json()["data"]] == [snapshot]


async def test_single_request_with_included_reports(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    request_id = await api.request_id(apps[0].id)
    body = await api.ok(
        f"{REQUESTS}/{request_id}", "/v1/analyticsReportRequests/{id}", include="reports"
    )
    names = {r["attributes"]["name"] for r in body["included"]}
    assert "App Store Installation and Deletion Standard" in names  # default limit 10


@pytest.mark.parametrize("roles", [("SALES",), ("FINANCE",), ("ADMIN",)])
async def test_admin_sales_and_finance_keys_read(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...], roles: tuple[str, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    key = state.add_key(roles=roles)
    response = await api.get(f"{REQUESTS}/{request_id}", key=key)
    assert response.status_code == 200
    reports = await api.get(f"{REQUESTS}/{request_id}/reports", key=key)
    assert reports.status_code == 200


async def test_other_roles_cannot_read(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    for roles in (("DEVELOPER",), ("APP_MANAGER",), ("MARKETING",)):
        key = state.add_key(roles=roles)
        assert_error(await api.get(f"{REQUESTS}/{request_id}", key=key), 403, "FORBIDDEN_ERROR")


async def test_access_to_reports_reads_only_with_its_knob(
    api: Api, state: SandboxState, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    key = state.add_key(roles=("ACCESS_TO_REPORTS",))
    path = f"/v1/apps/{apps[0].id}/analyticsReportRequests"
    assert_error(await api.get(path, key=key), 403, "FORBIDDEN_ERROR")
    ledger.options.access_to_reports_reads = True
    assert (await api.get(path, key=key)).json()["data"][0]["id"] == request_id


async def test_delete_is_admin_only_then_404_and_a_new_request_may_be_created(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    path = f"{REQUESTS}/{request_id}"
    sales = state.add_key(roles=("SALES",))
    assert_error(await api.client.delete(path, headers=api.headers(sales)), 403, "FORBIDDEN_ERROR")
    deleted = await api.client.delete(path, headers=api.headers())
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(await api.get(path), 404, "NOT_FOUND")
    assert_error(await api.get(f"{path}/reports"), 404, "NOT_FOUND")
    again = await api.request_id(apps[0].id)
    assert again != request_id


async def test_unknown_app_and_bad_bodies(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    assert_error(await api.get("/v1/apps/1/analyticsReportRequests"), 404, "NOT_FOUND")
    error = assert_error(await api.create("1"), 409, "ENTITY_ERROR.RELATIONSHIP.INVALID")
    assert error["source"] == {"pointer": "/data/relationships/app/data/id"}
    wrong = create_body(apps[0].id, "SOMETIMES")
    response = await api.client.post(REQUESTS, json=wrong, headers=api.headers())
    error = assert_error(response, 409, "ENTITY_ERROR.ATTRIBUTE.INVALID")
    assert error["source"] == {"pointer": "/data/attributes/accessType"}
    response = await api.client.post(REQUESTS, content=b"{", headers=api.headers())
    assert_error(response, 422, "ENTITY_UNPROCESSABLE")
    missing = {"data": {"type": "analyticsReportRequests", "attributes": {"accessType": "ONGOING"}}}
    response = await api.client.post(REQUESTS, json=missing, headers=api.headers())
    assert_error(response, 409, "ENTITY_ERROR.REQUIRED")
    bad_filter = await api.get(
        f"/v1/apps/{apps[0].id}/analyticsReportRequests", **{"filter[accessType]": "DAILY"}
    )
    assert_error(bad_filter, 400, "PARAMETER_ERROR.INVALID")


async def test_another_teams_request_is_not_found(
    api: Api, state: SandboxState, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    stranger = state.add_key("Other Team", roles=("ADMIN",))
    assert_error(await api.get(f"{REQUESTS}/{request_id}", key=stranger), 404, "NOT_FOUND")


# --- unconfirmed variants (ANALYTICS §3) ---------------------------------------------------


async def test_ghost_snapshot_is_invisible_yet_blocks_a_second_post(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    ledger.options.ghost_snapshots = True
    request_id = await api.request_id(apps[0].id, "ONE_TIME_SNAPSHOT")
    assert_error(await api.get(f"{REQUESTS}/{request_id}"), 404, "NOT_FOUND")
    listing = await api.ok(
        f"/v1/apps/{apps[0].id}/analyticsReportRequests", "/v1/apps/{id}/analyticsReportRequests"
    )
    assert listing["data"] == []
    assert_error(await api.create(apps[0].id, "ONE_TIME_SNAPSHOT"), 409, "STATE_ERROR")


async def test_stopped_request_blocks_a_new_one_by_default(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id)
    ledger.stop(request_id, api.clock.now)
    read = await api.ok(f"{REQUESTS}/{request_id}", "/v1/analyticsReportRequests/{id}")
    assert read["data"]["attributes"]["stoppedDueToInactivity"] is True
    assert_error(await api.create(apps[0].id), 409, "STATE_ERROR")
    # Recovery as connectors do it: DELETE (Admin) + POST.
    await api.client.delete(f"{REQUESTS}/{request_id}", headers=api.headers())
    assert (await api.create(apps[0].id)).status_code == 201


async def test_stopped_request_may_be_replaced_when_the_knob_allows(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    ledger.options.conflict_when_stopped = False
    request_id = await api.request_id(apps[0].id)
    assert_error(await api.create(apps[0].id), 409, "STATE_ERROR")  # a live one still blocks
    ledger.stop(request_id, api.clock.now)
    replacement = await api.request_id(apps[0].id)
    listing = await api.ok(
        f"/v1/apps/{apps[0].id}/analyticsReportRequests",
        "/v1/apps/{id}/analyticsReportRequests",
        **{"filter[accessType]": "ONGOING"},
    )
    states = {r["id"]: r["attributes"]["stoppedDueToInactivity"] for r in listing["data"]}
    assert states == {request_id: True, replacement: False}


async def test_inactivity_stops_a_request_after_the_configured_days(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    ledger.options.inactivity_days = 30
    request_id = await api.request_id(apps[0].id)
    path = f"{REQUESTS}/{request_id}"
    api.clock.advance(days=29)
    assert (await api.get(path)).json()["data"]["attributes"]["stoppedDueToInactivity"] is False
    api.clock.advance(days=2)
    assert (await api.get(path)).json()["data"]["attributes"]["stoppedDueToInactivity"] is True
