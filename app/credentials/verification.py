"""Live verification of an App Store Connect key: does Apple accept it, and what can it read?

There is no API to read a key's own role (FACTS §4.8), so every capability is probed with one
cheap request: a 403 means the role is missing, anything Apple answers otherwise (200, 404 "no
sales", 410) means the key may read it. A 401 anywhere means the key is revoked or wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.asc.client import AscClient
from app.asc.errors import (
    AscAgreementRequired,
    AscError,
    AscForbidden,
    AscGone,
    AscInvalidParameter,
    AscNotFound,
    AscUnauthorized,
)
from app.asc.report_download import finance_report_params, sales_report_params
from app.credentials.states import REMEDY, Capability, CredentialStatus

SALES_REPORTS = "/v1/salesReports"
FINANCE_REPORTS = "/v1/financeReports"


ROLE_HINTS = {
    Capability.SALES: "needs a team key with the Admin, Finance or Sales role",
    Capability.FINANCE: "needs a team key with the Admin or Finance role",
    Capability.REVIEWS: "needs a key with access to customer reviews",
    Capability.TESTFLIGHT: "needs the Admin, App Manager or Developer role",
    Capability.USERS: "needs the Admin role",
    Capability.ANALYTICS: "needs the Admin, Sales and Reports or Finance role",
}


class AscUnavailable(Exception):
    """Apple could not give an answer (network, 5xx, rate limit): nothing was decided."""

    def __init__(self, cause: AscError) -> None:
        super().__init__(f"App Store Connect did not answer: {cause}")
        self.cause = cause


class CredentialRejected(Exception):
    """Internal: a probe learned the credential itself is unusable."""

    def __init__(self, status: CredentialStatus, error: AscError) -> None:
        self.status = status
        self.error = error


@dataclass
class Verification:
    status: CredentialStatus
    reason: str | None
    code: str | None
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        return self.status is CredentialStatus.REVOKED_OR_INVALID


def _capability(available: bool, reason: str | None = None) -> dict[str, Any]:
    return {"available": available, "reason": reason}


def _classify_credential_error(error: AscError) -> None:
    """Raise CredentialRejected for errors about the key as a whole; return for the others."""
    if isinstance(error, AscUnauthorized):
        raise CredentialRejected(CredentialStatus.REVOKED_OR_INVALID, error)
    if isinstance(error, AscAgreementRequired):
        raise CredentialRejected(CredentialStatus.AGREEMENT_REQUIRED, error)
    if error.retryable:
        raise AscUnavailable(error)


async def _probe_json(
    client: AscClient, capability: Capability, path: str, params: dict[str, Any]
) -> dict[str, Any]:
    try:
        await client.get_document(path, params)
    except AscForbidden as error:
        _classify_credential_error(error)
        return _capability(
            False, f"App Store Connect refused ({error.code}): {ROLE_HINTS[capability]}"
        )
    except AscError as error:
        _classify_credential_error(error)
        # 404 and friends: the key was allowed to ask, there was just nothing there.
        return _capability(True, None)
    return _capability(True)


async def _probe_report(
    client: AscClient, capability: Capability, path: str, params: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Probe a report endpoint; the flag says Apple rejected the vendor number."""
    try:
        async with client.stream_report(path, params):
            pass
    except (AscNotFound, AscGone):
        return _capability(True), False
    except AscInvalidParameter as error:
        if error.parameter == "filter[vendorNumber]" or "vendor" in (error.detail or "").lower():
            return _capability(False, REMEDY[CredentialStatus.INVALID_VENDOR_NUMBER]), True
        return _capability(True, f"Apple questioned a parameter ({error.parameter})"), False
    except AscForbidden as error:
        _classify_credential_error(error)
        return _capability(
            False, f"App Store Connect refused ({error.code}): {ROLE_HINTS[capability]}"
        ), False
    except AscError as error:
        _classify_credential_error(error)
        raise AscUnavailable(error) from None
    return _capability(True), False


async def verify_credentials(
    client: AscClient, *, key_type: str, vendor_number: str | None, today: dt.date
) -> Verification:
    """Check the key against Apple and probe each capability. Raises AscUnavailable."""
    try:
        return await _verify(client, key_type=key_type, vendor_number=vendor_number, today=today)
    except CredentialRejected as rejected:
        return Verification(
            status=rejected.status, reason=REMEDY[rejected.status], code=rejected.error.code
        )


async def _verify(
    client: AscClient, *, key_type: str, vendor_number: str | None, today: dt.date
) -> Verification:
    try:
        apps = await client.get_document("/v1/apps", {"limit": 1, "fields[apps]": "name"})
    except AscForbidden as error:
        _classify_credential_error(error)
        return Verification(CredentialStatus.MISSING_ROLE, "the key cannot list apps", error.code)
    except AscError as error:
        _classify_credential_error(error)
        raise AscUnavailable(error) from None
    first_app = next(iter(apps.resources()), None)

    capabilities: dict[str, dict[str, Any]] = {}
    vendor_rejected = False
    if key_type != "team":
        reports_note = "individual keys cannot read sales or finance reports; link a team key"
        capabilities[Capability.SALES] = _capability(False, reports_note)
        capabilities[Capability.FINANCE] = _capability(False, reports_note)
    elif vendor_number is None:
        no_vendor = "add the vendor number (App Store Connect → Payments and Financial Reports)"
        capabilities[Capability.SALES] = _capability(False, no_vendor)
        capabilities[Capability.FINANCE] = _capability(False, no_vendor)
    else:
        day = today - dt.timedelta(days=2)
        capabilities[Capability.SALES], vendor_rejected = await _probe_report(
            client,
            Capability.SALES,
            SALES_REPORTS,
            sales_report_params(vendor_number, "SALES", "SUMMARY", "DAILY", day, "1_0"),
        )
        last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        capabilities[Capability.FINANCE], _ = await _probe_report(
            client,
            Capability.FINANCE,
            FINANCE_REPORTS,
            finance_report_params(vendor_number, "FINANCIAL", "ZZ", last_month),
        )

    if first_app is None:
        none_yet = "no apps in this account yet; checked again at the next verification"
        capabilities[Capability.REVIEWS] = _capability(True, none_yet)
        capabilities[Capability.TESTFLIGHT] = _capability(True, none_yet)
        capabilities[Capability.ANALYTICS] = _capability(True, none_yet)
    else:
        # Reading the app's analytics report requests (ANALYTICS §3): whether this key may
        # also create one only shows when the analytics sync needs to.
        capabilities[Capability.ANALYTICS] = await _probe_json(
            client,
            Capability.ANALYTICS,
            f"/v1/apps/{first_app.id}/analyticsReportRequests",
            {"limit": 1},
        )
        capabilities[Capability.REVIEWS] = await _probe_json(
            client, Capability.REVIEWS, f"/v1/apps/{first_app.id}/customerReviews", {"limit": 1}
        )
        capabilities[Capability.TESTFLIGHT] = await _probe_json(
            client, Capability.TESTFLIGHT, "/v1/builds", {"filter[app]": first_app.id, "limit": 1}
        )
    capabilities[Capability.USERS] = await _probe_json(
        client, Capability.USERS, "/v1/users", {"limit": 1}
    )

    if vendor_rejected:
        status = CredentialStatus.INVALID_VENDOR_NUMBER
    elif vendor_number is not None and not capabilities[Capability.SALES]["available"]:
        status = CredentialStatus.MISSING_ROLE
    else:
        status = CredentialStatus.ACTIVE
    reason = REMEDY.get(status)
    return Verification(status=status, reason=reason, code=None, capabilities=capabilities)
