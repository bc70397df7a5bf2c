"""Which API keys may call which sandbox endpoint.

==========================================  ===========  ==========================================
endpoint                                    key types    roles (any of)
==========================================  ===========  ==========================================
``GET /v1/apps``, ``GET /v1/apps/{id}``     team, indiv  any role
``GET /v1/apps/{id}/customerReviews``       team, indiv  any role
``GET /v1/customerReviews/{id}/response``   team, indiv  any role
``POST /v1/customerReviewResponses``,       team, indiv  ADMIN, APP_MANAGER, CUSTOMER_SUPPORT
``DELETE /v1/customerReviewResponses/{id}``
``GET /v1/builds``                          team, indiv  ADMIN, APP_MANAGER, DEVELOPER
``GET /v1/betaGroups``                      team, indiv  ADMIN, APP_MANAGER, DEVELOPER
``GET /v1/betaTesters``                     team, indiv  ADMIN, APP_MANAGER, DEVELOPER
``GET /v1/apps/{id}/appStoreVersions``      team, indiv  any role
``GET /v1/reviewSubmissions``               team, indiv  any role
``GET /v1/users``, ``/v1/userInvitations``  team, indiv  ADMIN
``GET /v1/salesReports``                    team only    ADMIN, FINANCE, SALES, ACCESS_TO_REPORTS
``GET /v1/financeReports``                  team only    ADMIN, FINANCE
``POST|DELETE`` analyticsReportRequests     team, indiv  ADMIN (see :mod:`.analytics_requests`)
``GET`` the analytics chain                 team, indiv  ADMIN, SALES, FINANCE (+ knob)
==========================================  ===========  ==========================================

A key outside its row gets 403 ``FORBIDDEN_ERROR`` ("This request is forbidden for security
reasons" / "The API key in use does not allow this request"); individual keys always get it
for sales and finance reports. Independently of the table, a key with ``agreement_missing``
gets 403 ``FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED`` on every call and a revoked key
gets 401 ``NOT_AUTHORIZED``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.sandbox.state import SandboxKey


@dataclass(frozen=True, slots=True)
class Permission:
    roles: frozenset[str] | None = None  # None: any role
    team_keys_only: bool = False

    def allows(self, key: SandboxKey) -> bool:
        if self.team_keys_only and not key.is_team_key:
            return False
        return self.roles is None or bool(self.roles.intersection(key.roles))


ANY_ROLE = Permission()
BUILDS = Permission(frozenset({"ADMIN", "APP_MANAGER", "DEVELOPER"}))
ADMIN_ONLY = Permission(frozenset({"ADMIN"}))
SALES_REPORTS = Permission(
    frozenset({"ADMIN", "FINANCE", "SALES", "ACCESS_TO_REPORTS"}), team_keys_only=True
)
FINANCE_REPORTS = Permission(frozenset({"ADMIN", "FINANCE"}), team_keys_only=True)
REVIEW_RESPONSES = Permission(frozenset({"ADMIN", "APP_MANAGER", "CUSTOMER_SUPPORT"}))
