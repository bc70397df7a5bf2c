"""Value sets App Store Connect defines, for the filters that take them."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    """Apple's ``Platform`` (App Store Connect API 4.4.1, components.schemas.Platform)."""

    IOS = "IOS"
    MAC_OS = "MAC_OS"
    TV_OS = "TV_OS"
    VISION_OS = "VISION_OS"
