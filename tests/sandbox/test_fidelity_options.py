"""The fidelity options themselves: defaults, per-team overrides, the admin surface, and the
proof that splitting ``_app_day`` into steps left the generated sales exactly as they were."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import httpx
import pytest

from app.sandbox import SandboxState
from app.sandbox.fidelity import (
    ExpiryAnswer,
    Fidelity,
    FidelityOptions,
    SubmittedDate,
    ZzFooter,
)
from app.sandbox.sales import daily_lines


def test_defaults_are_the_original_behaviour() -> None:
    choice = Fidelity()
    assert choice.zz_footer is ZzFooter.COMBINED
    assert choice.expiry is ExpiryAnswer.GONE
    assert choice.submitted_date is SubmittedDate.LAST
    assert not (choice.payment_regions or choice.pre_orders or choice.draft_submissions)
    assert choice.late_publication_hours == 0 and choice.reply_publish_hours == 12
    assert choice.as_json()["late_days"] == []


def test_json_values_are_coerced_and_checked() -> None:
    choice = Fidelity().updated(
        {"zz_footer": "per_country", "late_days": ["2025-06-08"], "reply_publish_hours": 1.5}
    )
    assert choice.zz_footer is ZzFooter.PER_COUNTRY
    assert choice.late_days == frozenset({date(2025, 6, 8)})
    assert choice.reply_publish_delay == timedelta(hours=1.5)
    for bad, message in [
        ({"zz_footer": "sideways"}, "'zz_footer' must be one of: combined, per_country"),
        ({"pre_orders": 1}, "'pre_orders' must be a boolean"),
        ({"late_publication_hours": True}, "'late_publication_hours' must be an integer"),
        ({"late_publication_hours": -1}, "must not be negative"),
        ({"late_days": ["8 June"]}, "'late_days' must be a list of YYYY-MM-DD dates"),
        ({"colour": "red"}, "unknown option 'colour'"),
    ]:
        with pytest.raises(ValueError, match=message):
            Fidelity().updated(bad)


def test_team_overrides_start_from_the_default() -> None:
    options = FidelityOptions()
    options.set(expiry="not_found_404")
    options.set_team("Acme", zz_footer="rows_only")
    assert options.for_team("Acme").expiry is ExpiryAnswer.NOT_FOUND
    assert options.for_team("Acme").zz_footer is ZzFooter.ROWS_ONLY
    assert options.for_team("Other").zz_footer is ZzFooter.COMBINED
    options.clear_team("Acme")
    assert options.for_team("Acme") == options.default


async def test_admin_surface(client: httpx.AsyncClient, state: SandboxState) -> None:
    team = state.default_team()
    overview = (await client.get("/sandbox/fidelity")).json()
    assert overview["default"] == Fidelity().as_json() and overview["teams"] == {}
    assert overview["choices"]["expiry"] == ["gone_410", "not_found_404", "bad_request_400"]
    changed = await client.patch("/sandbox/fidelity", json={"pre_orders": True})
    assert changed.status_code == 200 and changed.json()["pre_orders"] is True
    assert state.fidelity.default.pre_orders

    path = f"/sandbox/fidelity/teams/{team.name}"
    patched = await client.patch(path, json={"late_publication_hours": 24})
    assert patched.json()["late_publication_hours"] == 24 and patched.json()["pre_orders"]
    assert (await client.get(path)).json() == state.fidelity.for_team(team.name).as_json()
    refused = await client.patch(path, json={"late_publication_hours": 1, "expiry": "410"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "SANDBOX_BAD_REQUEST"
    assert state.fidelity.for_team(team.name).late_publication_hours == 24  # unchanged
    unknown = await client.patch("/sandbox/fidelity/teams/Nobody", json={"pre_orders": True})
    assert unknown.status_code == 404
    assert (await client.delete(path)).status_code == 204
    assert state.fidelity.teams == {}
    assert (await client.patch("/sandbox/fidelity", content=b"[1]")).status_code == 400


def test_sales_generation_unchanged_by_the_step_split() -> None:
    # Digest of the rows generated before ``_app_day`` was split into named steps.
    state = SandboxState(seed=42)
    digest = hashlib.sha256()
    for team in (state.default_team(), state.add_team("Big", apps=12)):
        for offset in range(60):
            digest.update(repr(daily_lines(team, date(2025, 6, 9) - timedelta(offset))).encode())
    assert digest.hexdigest() == PINNED_SALES_DIGEST


PINNED_SALES_DIGEST = "9a9bcf10558376a04963312b0d2ee3c8521dbe79c19d5d8be6e417f9f8dc9e57"
