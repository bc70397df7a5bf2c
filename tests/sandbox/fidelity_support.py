"""Helpers shared by the ``test_fidelity_*`` files: report downloads and their text."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import httpx

from app.sandbox import SandboxKey

AnyHeaders = Callable[..., dict[str, str]]


class ReportClient:
    """Downloads ``salesReports`` / ``financeReports`` for one key."""

    def __init__(self, client: httpx.AsyncClient, key: SandboxKey, headers_for: AnyHeaders):
        self.client, self.key, self.headers_for = client, key, headers_for

    async def sales(
        self,
        frequency: str,
        report_date: str | None,
        *,
        report_type: str = "SALES",
        sub_type: str = "SUMMARY",
        version: str | None = "1_0",
    ) -> httpx.Response:
        params = {
            "filter[vendorNumber]": self.key.vendor_number,
            "filter[reportType]": report_type,
            "filter[reportSubType]": sub_type,
            "filter[frequency]": frequency,
        }
        if report_date is not None:
            params["filter[reportDate]"] = report_date
        if version is not None:
            params["filter[version]"] = version
        return await self.get("/v1/salesReports", params)

    async def finance(
        self, region: str, report_date: str = "2025-08", report_type: str = "FINANCIAL"
    ) -> httpx.Response:
        params = {
            "filter[vendorNumber]": self.key.vendor_number,
            "filter[reportType]": report_type,
            "filter[regionCode]": region,
            "filter[reportDate]": report_date,
        }
        return await self.get("/v1/financeReports", params)

    async def get(self, path: str, params: dict[str, str]) -> httpx.Response:
        headers = {"Accept": "application/a-gzip", **self.headers_for(self.key)}
        return await self.client.get(path, params=params, headers=headers)


def report_text(response: httpx.Response) -> str:
    """The gunzipped text of a 200 report download."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/a-gzip"
    assert response.content[:2] == b"\x1f\x8b"
    return gzip.decompress(response.content).decode("utf-8")


def table(lines: list[str]) -> list[dict[str, str]]:
    """Tab-separated ``lines`` (header first) as dicts."""
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
