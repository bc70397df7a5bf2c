"""Value sets App Store Connect defines, for the filters that take them."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    """Apple's ``Platform`` (App Store Connect API 4.4.1, components.schemas.Platform)."""

    IOS = "IOS"
    MAC_OS = "MAC_OS"
    TV_OS = "TV_OS"
    VISION_OS = "VISION_OS"


class ReportPlatform(StrEnum):
    """The platform of a sales report line, in Apple's ``Platform`` casing: Apple's four, plus
    ``WATCH_OS`` (an Apple Watch device line; Apple's API names it so on versions it adds
    later) and ``UNKNOWN`` (a device the report does not tie to one platform)."""

    IOS = "IOS"
    MAC_OS = "MAC_OS"
    TV_OS = "TV_OS"
    WATCH_OS = "WATCH_OS"
    VISION_OS = "VISION_OS"
    UNKNOWN = "UNKNOWN"
