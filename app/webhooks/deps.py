"""The webhooks domain's parts as FastAPI dependencies: the event catalogue and the sender
the app was built with (tests override ``get_webhook_sender`` to reach in-process receivers
through a fake DNS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.credentials.deps import AscClients
from app.outbox.catalogue import EventCatalogue
from app.webhooks.sender import WebhookSender
from app.webhooks.service import Tools


def get_event_catalogue(request: Request) -> EventCatalogue:
    catalogue: EventCatalogue = request.app.state.webhook_catalogue
    return catalogue


def get_webhook_sender(request: Request) -> WebhookSender:
    sender: WebhookSender = request.app.state.webhook_sender
    return sender


Catalogue = Annotated[EventCatalogue, Depends(get_event_catalogue)]
Sender = Annotated[WebhookSender, Depends(get_webhook_sender)]


def get_tools(catalogue: Catalogue, sender: Sender, clients: AscClients) -> Tools:
    return Tools(catalogue=catalogue, cipher=clients.cipher, sender=sender)


WebhookTools = Annotated[Tools, Depends(get_tools)]
