"""The process's App Store Connect clients as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.credentials.clients import AscClientFactory


def get_asc_clients(request: Request) -> AscClientFactory:
    factory: AscClientFactory = request.app.state.asc_clients
    return factory


AscClients = Annotated[AscClientFactory, Depends(get_asc_clients)]
