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
    status: Literal["ready"] = "ready"
    checks: list[Check]
