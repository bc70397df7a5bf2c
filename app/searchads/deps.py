"""The Apple Ads parts of the running app as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.credentials.clients import AscClientFactory
from app.searchads.service import SearchAdsDeps


def get_searchads_deps(request: Request) -> SearchAdsDeps:
    factory: AscClientFactory = request.app.state.asc_clients
    return SearchAdsDeps(factory.http, factory.cipher, request.app.state.settings)


AdsDeps = Annotated[SearchAdsDeps, Depends(get_searchads_deps)]
