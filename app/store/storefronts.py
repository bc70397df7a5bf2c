"""Storefronts: Apple's App Store countries, and which ones a workspace follows.

A workspace's storefronts are configured (``PUT /v1/store/storefronts``) or, by default, the
countries where it had sales in the last 90 days (most units first), capped at
``ORCHARD_STORE_MAX_STOREFRONTS``; without sales, ``ORCHARD_STORE_DEFAULT_STOREFRONTS``. A
tracked app may override them. The effective lists are stored (refreshed hourly by the
planner, and at once when a setting changes) so every reader and planner agrees.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import ValidationFailed
from app.store import repository

#: App Store storefronts (ISO 3166-1 alpha-2, lower case, as in Apple's feed URLs).
# fmt: off
STOREFRONTS = frozenset((
    "ae", "ag", "ai", "al", "am", "ao", "ar", "at", "au", "az", "ba", "bb", "bd", "be", "bf", "bg",
    "bh", "bj", "bm", "bn", "bo", "br", "bs", "bt", "bw", "by", "bz", "ca", "cd", "cg", "ch", "ci",
    "cl", "cm", "cn", "co", "cr", "cv", "cy", "cz", "de", "dk", "dm", "do", "dz", "ec", "ee", "eg",
    "es", "fi", "fj", "fm", "fr", "ga", "gb", "gd", "ge", "gh", "gm", "gr", "gt", "gw", "gy", "hk",
    "hn", "hr", "hu", "id", "ie", "il", "in", "iq", "is", "it", "jm", "jo", "jp", "ke", "kg", "kh",
    "kn", "kr", "kw", "ky", "kz", "la", "lb", "lc", "lk", "lr", "lt", "lu", "lv", "ly", "ma", "md",
    "me", "mg", "mk", "ml", "mm", "mn", "mo", "mr", "ms", "mt", "mu", "mv", "mw", "mx", "my", "mz",
    "na", "ne", "ng", "ni", "nl", "no", "np", "nr", "nz", "om", "pa", "pe", "pg", "ph", "pk", "pl",
    "pt", "pw", "py", "qa", "ro", "rs", "ru", "rw", "sa", "sb", "sc", "se", "sg", "si", "sk", "sl",
    "sn", "sr", "st", "sv", "sz", "tc", "td", "th", "tj", "tm", "tn", "to", "tr", "tt", "tw", "tz",
    "ua", "ug", "us", "uy", "uz", "vc", "ve", "vg", "vn", "vu", "xk", "ye", "za", "zm", "zw",
))
# fmt: on
SALES_WINDOW = dt.timedelta(days=90)
REFRESH_EVERY = dt.timedelta(hours=1)


def checked(codes: list[str], field: str, limit: int) -> list[str]:
    """Storefront codes as given, normalised to lower case, each known, no repeats."""
    result: list[str] = []
    for index, raw in enumerate(codes):
        code = raw.strip().lower()
        if code not in STOREFRONTS:
            raise ValidationFailed.single(
                f"{field}[{index}]",
                f"'{raw[:8]}' is not an App Store storefront (ISO 3166-1 alpha-2, e.g. 'us')",
                "storefront",
            )
        if code not in result:
            result.append(code)
    if len(result) > limit:
        raise ValidationFailed.single(field, f"at most {limit} storefronts", "too_long")
    return result


def defaults(settings: Settings) -> list[str]:
    return [c for c in settings.store_default_storefronts.split(",") if c in STOREFRONTS] or ["us"]


async def refresh_workspace(
    session: AsyncSession, settings: Settings, workspace_id: uuid.UUID, now: dt.datetime
) -> tuple[list[str], str]:
    """Recompute the workspace's effective storefronts (and its tracked apps'); returns them
    with their source: ``configured``, ``sales`` or ``default``."""
    configured = await repository.configured_storefronts(session, workspace_id)
    if configured is not None:
        effective, source = configured, "configured"
    else:
        countries = await repository.sales_countries(
            session, workspace_id, since=(now - SALES_WINDOW).date()
        )
        known = [c for c in countries if c in STOREFRONTS][: settings.store_max_storefronts]
        effective, source = (known, "sales") if known else (defaults(settings), "default")
    await repository.save_effective(session, workspace_id, effective, source, now)
    return effective, source


async def refresh_stale(session: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """Refresh every workspace that tracks apps and was not refreshed within the hour."""
    stale = await repository.stale_workspaces(session, now - REFRESH_EVERY)
    for workspace_id in stale:
        await refresh_workspace(session, settings, workspace_id, now)
    return len(stale)
