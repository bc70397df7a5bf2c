from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Check(BaseModel):
    name: str = Field(description="What was checked, e.g. `database`, `migrations`.")
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: Literal["ready", "degraded"] = Field(
        description="`degraded`: serving, but an advisory check failed (e.g. no sync worker "
        "alive, so data is going stale)."
    )
    checks: list[Check]
