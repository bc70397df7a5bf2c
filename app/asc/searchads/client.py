"""One client interface over Apple Ads, with the Apple Ads Platform API v1 as the default
(FACTS §9) and the Campaign Management API v5 refused from its sunset (FACTS §0).

Every response's ``RateLimit-Limit/Remaining/Reset`` goes to ``on_rate``; a 429 raises
:class:`AdsRateLimited` with ``Retry-After`` (preferred) or the reset; a 401 fetches a new
access token once and then raises :class:`AdsUnauthorized`; ``before_send`` may stop a request
(a spent budget) before it leaves. No retry loop lives here: the sync engine reschedules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from app.asc.searchads import parsing
from app.asc.searchads.auth import AdsTokenCache
from app.asc.searchads.parsing import (
    AdAccountInfo,
    AdGroupInfo,
    CampaignInfo,
    Level,
    ReportLine,
)

__all__ = [
    "V5_SUNSET",
    "AdsApiError",
    "AdsBackend",
    "AdsForbidden",
    "AdsRateLimited",
    "AdsUnauthorized",
    "AdsUnavailable",
    "RateInfo",
    "V1Backend",
    "V5Backend",
]

#: FACTS §0: "v5 is sunset 2027-01-26 (calls then error)".
V5_SUNSET = dt.date(2027, 1, 26)
ENTITY_PAGE = 1000  # FACTS §9: campaigns/ad groups pageSize ≤ 1000
REPORT_PAGE = 1000  # ≤ 5000 allowed
CAMPAIGN_BATCH = 100  # campaign ids per report request (``campaignId IN``)
_REPORT_PATHS: dict[Level, str] = {
    "campaign": "/v1/reports/apps/campaigns/query",
    "ad_group": "/v1/reports/apps/adgroups/query",
    "keyword": "/v1/reports/apps/keywords/query",
    "search_term": "/v1/reports/apps/searchterms/query",
}


class AdsApiError(Exception):
    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"Apple Ads answered {status} {code or ''}: {message}".strip())
        self.status = status
        self.code = code
        self.message = message


class AdsUnauthorized(AdsApiError):
    """401 even with a fresh token, or the token endpoint rejected the credentials."""


class AdsForbidden(AdsApiError):
    """403: no access to the ad account (role removed) or a missing context header."""


class AdsUnavailable(AdsApiError):
    """5xx, network failure: try again later."""


class AdsRateLimited(AdsApiError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(429, "RATE_LIMIT_EXCEEDED", "Apple Ads rate limit reached")
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateInfo:
    limit: int
    remaining: int
    reset_seconds: float


def parse_rate(headers: httpx.Headers) -> RateInfo | None:
    try:
        limit = int(headers["RateLimit-Limit"])
        remaining = int(headers["RateLimit-Remaining"])
        reset = float(headers.get("RateLimit-Reset", "60"))
    except (KeyError, ValueError):
        return None
    if limit < 0 or remaining < 0 or reset < 0:
        return None
    return RateInfo(limit, remaining, reset)


OnRate = Callable[[RateInfo], Awaitable[None]]
BeforeSend = Callable[[], Awaitable[None]]


class AdsBackend(Protocol):
    """What Orchard needs from Apple Ads, in canonical rows (v1 metric names)."""

    version: str

    async def ad_accounts(self) -> list[AdAccountInfo]: ...

    async def campaigns(self, ad_account_id: int) -> list[CampaignInfo]: ...

    async def ad_groups(
        self, ad_account_id: int, campaign_ids: Sequence[int]
    ) -> list[AdGroupInfo]: ...

    async def daily_report(
        self,
        ad_account_id: int,
        level: Level,
        campaign_ids: Sequence[int],
        start: dt.date,
        end: dt.date,
    ) -> list[ReportLine]: ...


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, response.reason_phrase or "error"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        if isinstance(error.get("errors"), list) and error["errors"]:  # v5 shape
            first = error["errors"][0]
            return first.get("messageCode"), str(first.get("message") or "")
        return error.get("code"), str(error.get("message") or "")
    return None, "error"


class V1Backend:
    """Apple Ads Platform API v1 (``{base}/v1``, ``X-AP-Context: adAccountId=<id>``)."""

    version = "v1"
    context_key = "adAccountId"

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        tokens: AdsTokenCache,
        *,
        on_rate: OnRate | None = None,
        before_send: BeforeSend | None = None,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._tokens = tokens
        self._on_rate = on_rate
        self._before_send = before_send
        self.requests = 0

    async def _send(
        self, method: str, path: str, *, ad_account_id: int | None = None, json: Any = None
    ) -> Any:
        forced = False
        while True:
            if self._before_send is not None:
                await self._before_send()
            token = await self._tokens.token(self._http, force=forced)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if ad_account_id is not None:
                headers["X-AP-Context"] = f"{self.context_key}={ad_account_id}"
            try:
                self.requests += 1
                response = await self._http.request(
                    method, self._base + path, headers=headers, json=json
                )
            except httpx.HTTPError as exc:
                raise AdsUnavailable(0, None, f"{type(exc).__name__}") from None
            rate = parse_rate(response.headers)
            if rate is not None and self._on_rate is not None:
                await self._on_rate(rate)
            status = response.status_code
            if status < 300:
                try:
                    return response.json()
                except ValueError:
                    raise AdsUnavailable(status, None, "the answer is not JSON") from None
            if status == 401 and not forced:
                forced = True  # a new token once (FACTS §4 "401 … re-mint once")
                continue
            code, message = _error_of(response)
            if status == 401:
                raise AdsUnauthorized(status, code, message)
            if status == 403:
                raise AdsForbidden(status, code, message)
            if status == 429:
                retry = response.headers.get("Retry-After")
                wait = float(retry) if retry and retry.isdigit() else None
                if wait is None:
                    wait = rate.reset_seconds if rate is not None else 2.0
                raise AdsRateLimited(wait)
            if status >= 500:
                raise AdsUnavailable(status, code, message)
            raise AdsApiError(status, code, message)

    async def ad_accounts(self) -> list[AdAccountInfo]:
        accounts = parsing.acl_accounts(await self._send("GET", "/v1/acls"))
        detailed = []
        for info in accounts:
            body = await self._send("GET", f"/v1/ad-accounts/{info.ad_account_id}")
            detailed.append(parsing.ad_account_details(info, body))
        return detailed

    async def _query(
        self, path: str, ad_account_id: int, filters: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = await self._send(
                "POST",
                path,
                ad_account_id=ad_account_id,
                json={
                    "filters": filters,
                    "pagination": {
                        "offset": offset,
                        "pageSize": ENTITY_PAGE,
                        "fetchTotalCount": True,
                    },
                },
            )
            page = body.get("result") if isinstance(body, dict) else None
            items = [r for r in page or [] if isinstance(r, dict)]
            records.extend(items)
            total = parsing.as_int(
                ((body.get("pagination") or {}) if isinstance(body, dict) else {}).get("totalCount")
            )
            offset += len(items)
            if len(items) < ENTITY_PAGE or (total is not None and offset >= total) or not items:
                return records

    async def campaigns(self, ad_account_id: int) -> list[CampaignInfo]:
        live = await self._query("/v1/campaigns/query", ad_account_id, [])
        deleted = await self._query(
            "/v1/campaigns/query",
            ad_account_id,
            [{"field": "deleted", "operator": "EQUALS", "value": True}],
        )
        seen: dict[int, CampaignInfo] = {}
        for record in live + deleted:
            info = parsing.campaign(record)
            if info is not None:
                seen[info.campaign_id] = info
        return list(seen.values())

    async def ad_groups(self, ad_account_id: int, campaign_ids: Sequence[int]) -> list[AdGroupInfo]:
        groups: dict[int, AdGroupInfo] = {}
        for batch in _batches(campaign_ids):
            ids = [str(i) for i in batch]
            for deleted in (False, True):
                filters: list[dict[str, Any]] = [
                    {"field": "campaignId", "operator": "IN", "value": ids}
                ]
                if deleted:
                    filters.append({"field": "deleted", "operator": "EQUALS", "value": True})
                for record in await self._query("/v1/adgroups/query", ad_account_id, filters):
                    info = parsing.ad_group(record)
                    if info is not None:
                        groups[info.ad_group_id] = info
        return list(groups.values())

    async def daily_report(
        self,
        ad_account_id: int,
        level: Level,
        campaign_ids: Sequence[int],
        start: dt.date,
        end: dt.date,
    ) -> list[ReportLine]:
        """DAILY rows by country/region in the ad account's zone (ORTZ). v1 DAILY needs a
        range of more than one day: a one-day window asks from the day before and drops it."""
        asked_start = start - dt.timedelta(days=1) if end <= start else start
        lines: list[ReportLine] = []
        for batch in _batches(campaign_ids):
            offset = 0
            while True:
                body = await self._send(
                    "POST",
                    _REPORT_PATHS[level],
                    ad_account_id=ad_account_id,
                    json={
                        "timeRange": {
                            "start": asked_start.isoformat(),
                            "end": end.isoformat(),
                            "timeZone": "ORTZ",
                            "granularity": "DAILY",
                        },
                        "filters": [
                            {
                                "field": "campaignId",
                                "operator": "IN",
                                "value": [str(i) for i in batch],
                            }
                        ],
                        "groupBy": ["countryOrRegion"],
                        "pagination": {"offset": offset, "pageSize": REPORT_PAGE},
                    },
                )
                result = body.get("result") if isinstance(body, dict) else None
                rows = result.get("rows") if isinstance(result, dict) else None
                rows = [r for r in rows or [] if isinstance(r, dict)]
                for row in rows:
                    lines.extend(
                        line
                        for line in parsing.report_lines(level, row)
                        if start <= line.report_date <= end
                    )
                pagination = body.get("pagination") if isinstance(body, dict) else None
                total = parsing.as_int((pagination or {}).get("totalCount"))
                offset += len(rows)
                if len(rows) < REPORT_PAGE or not rows or (total is not None and offset >= total):
                    break
        return lines


def _batches(ids: Sequence[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + CAMPAIGN_BATCH] for i in range(0, len(ordered), CAMPAIGN_BATCH)]


_V5_REPORT_PATHS: dict[Level, str] = {
    "campaign": "/reports/campaigns",
    "ad_group": "/reports/campaigns/{cid}/adgroups",
    "keyword": "/reports/campaigns/{cid}/keywords",
    "search_term": "/reports/campaigns/{cid}/searchterms",
}
NO_KEYWORDS = "CAMPAIGN DOES NOT CONTAIN KEYWORD"  # FACTS §4: skip, as Airbyte does


class V5Backend(V1Backend):
    """Campaign Management API v5 (``{base}/api/v5``, ``X-AP-Context: orgId=<id>``): only
    until its sunset (:data:`V5_SUNSET`); kept for its longer history until then. An "ad
    account" here is a v5 org (its ids are not v1's and cannot be derived from them)."""

    version = "v5"
    context_key = "orgId"
    prefix = "/api/v5"

    async def ad_accounts(self) -> list[AdAccountInfo]:
        return parsing.v5_acl_accounts(await self._send("GET", "/api/v5/acls"))

    async def _list(self, path: str, org_id: int) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = await self._send(
                "GET", f"{path}?limit={ENTITY_PAGE}&offset={offset}", ad_account_id=org_id
            )
            data = body.get("data") if isinstance(body, dict) else None
            items = [r for r in data or [] if isinstance(r, dict)]
            records.extend(items)
            page = (body.get("pagination") if isinstance(body, dict) else None) or {}
            total = parsing.as_int(page.get("totalResults"))
            offset += len(items)
            if not items or len(items) < ENTITY_PAGE or (total is not None and offset >= total):
                return records

    async def campaigns(self, ad_account_id: int) -> list[CampaignInfo]:
        records = await self._list("/api/v5/campaigns", ad_account_id)
        return [c for c in map(parsing.campaign, records) if c is not None]

    async def ad_groups(self, ad_account_id: int, campaign_ids: Sequence[int]) -> list[AdGroupInfo]:
        groups: list[AdGroupInfo] = []
        for campaign_id in sorted(set(campaign_ids)):
            path = f"/api/v5/campaigns/{campaign_id}/adgroups"
            groups.extend(
                g for g in map(parsing.ad_group, await self._list(path, ad_account_id)) if g
            )
        return groups

    async def daily_report(
        self,
        ad_account_id: int,
        level: Level,
        campaign_ids: Sequence[int],
        start: dt.date,
        end: dt.date,
    ) -> list[ReportLine]:
        targets: list[int | None] = [None]
        if level != "campaign":
            targets = list[int | None](sorted(set(campaign_ids)))
        wanted = set(campaign_ids)
        lines: list[ReportLine] = []
        for campaign_id in targets:
            path = "/api/v5" + _V5_REPORT_PATHS[level].format(cid=campaign_id)
            offset = 0
            while True:
                try:
                    body = await self._send(
                        "POST",
                        path,
                        ad_account_id=ad_account_id,
                        json={
                            "startTime": start.isoformat(),
                            "endTime": end.isoformat(),
                            "granularity": "DAILY",
                            "timeZone": "ORTZ",
                            "groupBy": ["countryOrRegion"],
                            "returnRowTotals": False,
                            "returnGrandTotals": False,
                            "returnRecordsWithNoMetrics": False,
                            "selector": {
                                "orderBy": [{"field": "countryOrRegion", "sortOrder": "ASCENDING"}],
                                "pagination": {"offset": offset, "limit": ENTITY_PAGE},
                            },
                        },
                    )
                except AdsApiError as exc:
                    if exc.status == 400 and NO_KEYWORDS in exc.message.upper():
                        break
                    raise
                rows = parsing.v5_report_rows(body)
                for row in rows:
                    lines.extend(
                        line
                        for line in parsing.v5_report_lines(level, row)
                        if line.campaign_id in wanted and start <= line.report_date <= end
                    )
                page = (body.get("pagination") if isinstance(body, dict) else None) or {}
                total = parsing.as_int(page.get("totalResults"))
                offset += len(rows)
                if not rows or len(rows) < ENTITY_PAGE or (total is not None and offset >= total):
                    break
        return lines
