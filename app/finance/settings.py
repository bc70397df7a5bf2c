"""Finance sync options, read from ``ORCHARD_FINANCE_*`` environment variables.

``ORCHARD_FINANCE_REGIONS`` (comma-separated, e.g. ``EU,JP``): FINANCIAL region files to fetch
besides ``ZZ`` (all regions in one file, always fetched). Each is stored under its own region
code, so the payments API can show Apple's per-region files and their totals.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_REGION = re.compile(r"^[A-Z][A-Z0-9]$")


class FinanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORCHARD_FINANCE_", extra="ignore", frozen=True)

    regions: str = Field(default="", description="FINANCIAL region codes besides ZZ.")

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, value: str) -> str:
        codes = [code.strip().upper() for code in value.split(",") if code.strip()]
        bad = [code for code in codes if not _REGION.match(code) or code in ("ZZ", "Z1")]
        if bad:
            raise ValueError(f"not FINANCIAL region codes: {', '.join(bad)}")
        return ",".join(dict.fromkeys(codes))

    @property
    def region_codes(self) -> tuple[str, ...]:
        return tuple(code for code in self.regions.split(",") if code)


def finance_regions() -> tuple[str, ...]:
    return FinanceSettings().region_codes
