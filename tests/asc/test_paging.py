"""Cursor paging: links.next followed verbatim, limit=200 default, loop detection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from app.asc.client import AscClient, join_param
from app.asc.errors import AscPagingLoop
from tests.asc.conftest import BASE_URL

NEXT_2 = f"{BASE_URL}/v1/apps?cursor=Mg.ANCHOR&limit=200&include=appStoreVersions"
NEXT_3 = f"{BASE_URL}/v1/apps?cursor=NA.OTHER&limit=200&include=appStoreVersions"


def _page(ids: list[str], next_url: str | None) -> dict[str, Any]:
    links: dict[str, str] = {"self": f"{BASE_URL}/v1/apps"}
    if next_url:
        links["next"] = next_url
    return {
        "data": [{"type": "apps", "id": i, "attributes": {}} for i in ids],
        "links": links,
        "meta": {"paging": {"total": 5, "limit": 200}},
    }


async def test_follows_next_verbatim_across_three_pages(
    apple: respx.MockRouter, client: AscClient
) -> None:
    route = apple.get("/v1/apps").mock(
        side_effect=[
            httpx.Response(200, json=_page(["1", "2"], NEXT_2)),
            httpx.Response(200, json=_page(["3", "4"], NEXT_3)),
            httpx.Response(200, json=_page(["5"], None)),
        ]
    )

    ids = [
        resource.id
        async for page in client.paginate(
            "/v1/apps",
            {
                "include": join_param(["appStoreVersions", "builds"]),
                "fields[apps]": ["name", "bundleId"],
                "filter[appStoreVersions.platform]": "IOS",
            },
        )
        for resource in page.resources()
    ]

    assert ids == ["1", "2", "3", "4", "5"]
    assert route.call_count == 3
    first, second, third = (call.request for call in route.calls)
    params = first.url.params
    assert params["limit"] == "200"
    assert params.get_list("include") == ["appStoreVersions,builds"]
    assert params.get_list("fields[apps]") == ["name,bundleId"]
    assert params["filter[appStoreVersions.platform]"] == "IOS"
    assert b"include=appStoreVersions,builds" in first.url.raw_path
    # later pages: exactly the URL Apple gave, no parameters added again
    assert str(second.url) == NEXT_2
    assert str(third.url) == NEXT_3
    assert "fields[apps]" not in second.url.params


async def test_caller_limit_is_kept(apple: respx.MockRouter, client: AscClient) -> None:
    route = apple.get("/v1/apps").mock(return_value=httpx.Response(200, json=_page(["1"], None)))
    pages = [page async for page in client.paginate("/v1/apps", {"limit": 50})]
    assert len(pages) == 1
    assert route.calls.last.request.url.params.get_list("limit") == ["50"]


async def test_repeated_next_raises_paging_loop(apple: respx.MockRouter, client: AscClient) -> None:
    apple.get("/v1/apps").mock(
        side_effect=[
            httpx.Response(200, json=_page(["1"], NEXT_2)),
            httpx.Response(200, json=_page(["2"], NEXT_3)),
            httpx.Response(200, json=_page(["3"], NEXT_2)),
        ]
    )
    seen: list[str] = []

    async def walk() -> None:
        async for page in client.paginate("/v1/apps"):
            seen.extend(r.id for r in page.resources())

    with pytest.raises(AscPagingLoop):
        await walk()
    assert seen == ["1", "2", "3"]


async def test_next_pointing_at_itself_raises(apple: respx.MockRouter, client: AscClient) -> None:
    apple.get("/v1/apps").mock(
        side_effect=[
            httpx.Response(200, json=_page(["1"], NEXT_2)),
            httpx.Response(200, json=_page(["2"], NEXT_2)),
        ]
    )
    with pytest.raises(AscPagingLoop):
        async for _ in client.paginate("/v1/apps"):
            pass


async def test_empty_list(apple: respx.MockRouter, client: AscClient) -> None:
    apple.get("/v1/apps").mock(return_value=httpx.Response(200, json=_page([], None)))
    pages = [page async for page in client.paginate("/v1/apps")]
    assert [p.resources() for p in pages] == [[]]


def test_join_param() -> None:
    assert join_param(["build", "app"]) == "build,app"
    assert join_param([4, 5]) == "4,5"
