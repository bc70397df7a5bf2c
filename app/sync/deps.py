"""The sync engine's parts as FastAPI dependencies: the dataset registry the app was built with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.sync.contract import DatasetRegistry


def get_registry(request: Request) -> DatasetRegistry:
    registry: DatasetRegistry = request.app.state.registry
    return registry


Registry = Annotated[DatasetRegistry, Depends(get_registry)]
