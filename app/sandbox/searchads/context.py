"""What a route handler receives, how routes are declared, and the ``X-AP-Context`` header."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from app.sandbox.searchads.credentials import AdsCredential
from app.sandbox.searchads.entities import AdsAccount, Campaign
from app.sandbox.searchads.errors import Api, invalid, not_found
from app.sandbox.searchads.options import AdsOptions

if TYPE_CHECKING:
    from app.sandbox.searchads.state import AppleAdsState

Body = dict[str, Any]


@dataclass
class AdsContext:
    request: Request
    state: AppleAdsState
    api: Api
    credential: AdsCredential
    options: AdsOptions
    params: dict[str, str]
    account: AdsAccount | None = None
    _body: Body | None = field(default=None, repr=False)

    @property
    def now(self) -> datetime:
        return self.state.now()

    @property
    def scoped_account(self) -> AdsAccount:
        assert self.account is not None, "route declared context=True"
        return self.account

    def id_param(self, name: str, what: str) -> int:
        raw = self.params[name]
        if not raw.isdigit():
            raise not_found(what)
        return int(raw)

    def visible_campaigns(self) -> list[Campaign]:
        world = self.state.world
        return [
            c
            for c in world.account_campaigns(self.scoped_account)
            if self.credential.can_see_campaign(c)
        ]

    def campaign(self, campaign_id: int) -> Campaign:
        """A campaign of the context account that the user may see (else 404)."""
        campaign = self.state.world.campaigns.get(campaign_id)
        if (
            campaign is None
            or campaign.account != self.scoped_account
            or not self.credential.can_see_campaign(campaign)
        ):
            raise not_found("Campaign")
        return campaign

    async def body(self) -> Body:
        if self._body is None:
            raw = await self.request.body()
            try:
                parsed = json.loads(raw or b"{}")
            except ValueError:
                raise invalid("The request body is not valid JSON.") from None
            if not isinstance(parsed, dict):
                raise invalid("The request body must be a JSON object.")
            self._body = parsed
        return self._body


Handler = Callable[[AdsContext], Awaitable[Body]]


@dataclass(frozen=True)
class AdsRoute:
    """``POST /campaigns/query`` → handler; ``context`` says whether X-AP-Context is needed."""

    method: str
    template: str
    handler: Handler
    context: bool = True

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template.rstrip("/"))
        return re.compile(f"^{regex}/?$")

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        return None if found is None else found.groupdict()


def parse_context(header: str | None, key: str, policy: str) -> int | None:
    """The id in ``X-AP-Context: <key>=<id>[;]`` or None when absent or malformed.

    ``policy`` (option ``context_semicolon``): ``either`` accepts both forms, ``required``
    only ``…;`` and ``forbidden`` only the bare form (FACTS §9: Apple's README sends ``;``).
    """
    if header is None:
        return None
    text = header.strip()
    trailing = text.endswith(";")
    if (trailing and policy == "forbidden") or (not trailing and policy == "required"):
        return None
    name, _, value = text.rstrip(";").partition("=")
    value = value.strip()
    if name.strip() != key or not value.isdigit():
        return None
    return int(value)
