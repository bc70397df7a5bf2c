"""Apple at the HTTP boundary for report tests: files (or errors) served by report filters."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from tests.fixtures.engine import INSTANT_RETRY

RATE = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3500;"}
Answer = bytes | tuple[int, dict[str, Any]]  # a report body, or (status, JSON:API error body)


def apple_error(status: int, code: str, detail: str, parameter: str | None = None) -> Answer:
    error: dict[str, Any] = {"status": str(status), "code": code, "title": code, "detail": detail}
    if parameter:
        error["source"] = {"parameter": parameter}
    return status, {"errors": [error]}


NO_SALES = apple_error(404, "NOT_FOUND", "There were no sales for the date specified.")


@dataclass
class FakeApple:
    """Answers ``/v1/salesReports`` by report type and ``/v1/financeReports`` by (type,
    region); anything not set is Apple's "no sales" 404. Records every report request."""

    reports: dict[str, Answer] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def set_text(self, key: str, text: str | bytes) -> None:
        raw = text.encode() if isinstance(text, str) else text
        self.reports[key] = gzip.compress(raw, mtime=0)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path == "/v1/salesReports":
            key = params["filter[reportType]"]
        elif request.url.path == "/v1/financeReports":
            key = f"{params['filter[reportType]']}/{params['filter[regionCode]']}"
        else:
            return httpx.Response(200, json={"data": [], "links": {}}, headers=RATE)
        self.requests.append(request)
        answer = self.reports.get(key, NO_SALES)
        if isinstance(answer, tuple):
            status, body = answer
            return httpx.Response(status, json=body, headers=RATE)
        headers = {
            **RATE,
            "Content-Type": "application/a-gzip",
            "Content-Encoding": "agzip",
        }
        if request.url.path == "/v1/salesReports":
            headers["x-reports-download-version"] = "1_3"
        return httpx.Response(200, content=answer, headers=headers)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._answer)


@asynccontextmanager
async def app_with(settings: Settings, apple: FakeApple) -> AsyncIterator[FastAPI]:
    application = create_app(settings, asc_transport=apple.transport(), asc_retry=INSTANT_RETRY)
    async with application.router.lifespan_context(application):
        yield application


def api(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orchard")
