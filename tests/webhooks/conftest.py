from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.webhooks.helpers import FakeDns, Receiver, make_sender, use_sender


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns()


@pytest.fixture
async def hooked(app: FastAPI, receiver: Receiver, dns: FakeDns) -> AsyncIterator[FastAPI]:
    """The app, its API's sender reaching the in-process receiver through the fake DNS."""
    sender = make_sender(receiver, dns)
    use_sender(app, sender)
    yield app
    app.dependency_overrides.clear()
    await sender.aclose()
