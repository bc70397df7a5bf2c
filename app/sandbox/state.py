"""Everything the sandbox remembers: clock, teams, API keys and the request log.

Generated data (apps, reviews, reports…) is *not* stored: it is recomputed from
``(seed, team)`` on every request, so a team with 250 apps or a year of daily reports costs
nothing until it is asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.sandbox.fidelity import FidelityOptions
from app.sandbox.ratelimit import DEFAULT_HOUR_LIMIT, RateWindow
from app.sandbox.seeding import numeric_id, stable_hash, stable_uuid

KeyType = Literal["team", "individual"]
KNOWN_ROLES = (
    "ADMIN",
    "FINANCE",
    "SALES",
    "APP_MANAGER",
    "DEVELOPER",
    "CUSTOMER_SUPPORT",
    "ACCESS_TO_REPORTS",
    "MARKETING",
)
DEFAULT_TEAM_NAME = "Lakeside Apps"
AUDIENCE = "appstoreconnect-v1"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SandboxTeam:
    """One App Store Connect provider. Immutable and hashable (generators cache on it)."""

    name: str
    issuer_id: str
    vendor_number: str
    app_count: int
    seed: int

    @property
    def slug(self) -> str:
        """Lower-case alphanumerics of the name, used in bundle ids and e-mail domains."""
        return re.sub(r"[^a-z0-9]", "", self.name.lower()) or "team"


@dataclass
class RequestRecord:
    """One ``/v1`` request as the sandbox saw it."""

    key_id: str | None  # the token's ``kid`` (even when authentication failed)
    method: str
    path: str
    query: list[tuple[str, str]]
    status: int
    started_at: datetime  # sandbox clock
    ended_at: datetime  # sandbox clock
    duration_seconds: float  # real elapsed time
    error_code: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "status": self.status,
            "error_code": self.error_code,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "duration_seconds": round(self.duration_seconds, 6),
        }


class SandboxKey:
    """An App Store Connect API key with a real EC P-256 private key.

    ``revoked``, ``agreement_missing``, ``roles``, ``hour_limit`` and ``send_retry_after``
    are plain mutable attributes: tests flip them between requests.
    """

    def __init__(
        self,
        *,
        key_id: str,
        team: SandboxTeam,
        private_key: ec.EllipticCurvePrivateKey,
        roles: Iterable[str],
        key_type: KeyType,
        clock: Callable[[], datetime],
        revoked: bool = False,
        agreement_missing: bool = False,
        hour_limit: int = DEFAULT_HOUR_LIMIT,
        send_retry_after: bool = False,
    ) -> None:
        if key_type not in ("team", "individual"):
            raise ValueError("key_type must be 'team' or 'individual'")
        self.key_id = key_id
        self.team = team
        self.key_type: KeyType = key_type
        self.roles: tuple[str, ...] = tuple(roles)
        self.revoked = revoked
        self.agreement_missing = agreement_missing
        self.send_retry_after = send_retry_after
        self.rate = RateWindow(clock, hour_limit)
        self._private_key = private_key
        self.public_key: ec.EllipticCurvePublicKey = private_key.public_key()
        self.private_key_pem: str = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def issuer_id(self) -> str:
        """The team's issuer id (individual keys must *not* send it as ``iss``)."""
        return self.team.issuer_id

    @property
    def vendor_number(self) -> str:
        return self.team.vendor_number

    @property
    def is_team_key(self) -> bool:
        return self.key_type == "team"

    @property
    def hour_limit(self) -> int:
        return self.rate.limit

    @hour_limit.setter
    def hour_limit(self, value: int) -> None:
        self.rate.limit = value

    @property
    def remaining(self) -> int:
        return self.rate.remaining()

    def set_remaining(self, remaining: int) -> None:
        """Force the hourly budget so that ``remaining`` requests are left right now."""
        self.rate.set_remaining(remaining)

    def mint_token(self, now: datetime | None = None, lifetime: timedelta | None = None) -> str:
        """A valid bearer token for this key (convenience for demos; tests mint their own)."""
        issued = now or utc_now()
        payload: dict[str, object] = {
            "iat": int(issued.timestamp()),
            "exp": int((issued + (lifetime or timedelta(minutes=15))).timestamp()),
            "aud": AUDIENCE,
        }
        if self.is_team_key:
            payload["iss"] = self.issuer_id
        else:
            payload["sub"] = "user"
        return jwt.encode(
            payload, self._private_key, algorithm="ES256", headers={"kid": self.key_id}
        )

    def summary(self, *, include_private_key: bool = False) -> dict[str, object]:
        data: dict[str, object] = {
            "key_id": self.key_id,
            "issuer_id": self.issuer_id,
            "vendor_number": self.vendor_number,
            "team": self.team.name,
            "key_type": self.key_type,
            "roles": list(self.roles),
            "revoked": self.revoked,
            "agreement_missing": self.agreement_missing,
            "hour_limit": self.hour_limit,
            "remaining": self.remaining,
            "send_retry_after": self.send_retry_after,
        }
        if include_private_key:
            data["private_key_pem"] = self.private_key_pem
        return data


class SandboxState:
    """The sandbox's world. Pass ``clock`` (returning an aware UTC datetime) to control time.

    ``token_clock`` (default: the sandbox clock) is what JWT ``exp`` is checked against; set
    it to :func:`utc_now` when a client mints tokens with real time while ``clock`` is fake.
    """

    def __init__(self, seed: int = 42, clock: Callable[[], datetime] | None = None) -> None:
        self.seed = seed
        self.clock: Callable[[], datetime] = clock or utc_now
        self.token_clock: Callable[[], datetime] | None = None
        self.latency_seconds: float = 0.0
        self.teams: dict[str, SandboxTeam] = {}
        self.keys: dict[str, SandboxKey] = {}
        self.requests: list[RequestRecord] = []
        self.in_flight: defaultdict[str, int] = defaultdict(int)
        self.max_concurrency: defaultdict[str, int] = defaultdict(int)
        #: Latest served version per (reportType, reportSubType); override to simulate drift.
        self.report_versions: dict[tuple[str, str], str] = {}
        #: Selectable Apple behaviours (FACTS §8), sandbox-wide and per team; see fidelity.py.
        self.fidelity = FidelityOptions()
        self._key_counter = 0
        self._vendor_numbers: set[str] = set()

    # --- time ---------------------------------------------------------------------------
    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the sandbox clock must return timezone-aware datetimes")
        return now

    def token_now(self) -> datetime:
        return (self.token_clock or self.clock)()

    # --- teams --------------------------------------------------------------------------
    def add_team(
        self, name: str, *, apps: int = 3, vendor_number: str | None = None
    ) -> SandboxTeam:
        if name in self.teams:
            raise ValueError(f"team {name!r} already exists")
        if apps < 0:
            raise ValueError("apps must be >= 0")
        issuer_id = stable_uuid(self.seed, "issuer", name)
        if not vendor_number:
            vendor = self._derive_vendor_number(name)
        else:
            vendor = vendor_number
            if not re.fullmatch(r"\d{8,9}", vendor):
                raise ValueError("vendor_number must be 8 digits")
            if vendor in self._vendor_numbers:
                raise ValueError(f"vendor number {vendor} already in use")
        team = SandboxTeam(
            name=name,
            issuer_id=issuer_id,
            vendor_number=vendor,
            app_count=apps,
            seed=stable_hash(self.seed, issuer_id),
        )
        self.teams[name] = team
        self._vendor_numbers.add(vendor)
        return team

    def _derive_vendor_number(self, name: str) -> str:
        """The team's seeded 8-digit vendor number, re-derived while another team has it.

        Derived numbers span 10^7 values, so two of a few thousand teams share one more often
        than not (the birthday bound: even odds near 3,700 teams); a derived number is never a
        reason to refuse a team, only a number the caller chose is."""
        vendor, attempt = numeric_id(8, 8, self.seed, "vendor", name), 0
        while vendor in self._vendor_numbers:
            attempt += 1
            vendor = numeric_id(8, 8, self.seed, "vendor", name, attempt)
        return vendor

    def team(self, name: str) -> SandboxTeam:
        return self.teams[name]

    def default_team(self) -> SandboxTeam:
        return self.teams.get(DEFAULT_TEAM_NAME) or self.add_team(DEFAULT_TEAM_NAME)

    # --- keys ---------------------------------------------------------------------------
    def add_key(
        self,
        team: SandboxTeam | str | None = None,
        roles: Iterable[str] = ("ADMIN",),
        key_type: KeyType = "team",
        revoked: bool = False,
        agreement_missing: bool = False,
        hour_limit: int = DEFAULT_HOUR_LIMIT,
        *,
        send_retry_after: bool = False,
    ) -> SandboxKey:
        self._key_counter += 1
        return self._make_key(
            f"key-{self._key_counter}",
            self._resolve_team(team),
            roles=roles,
            key_type=key_type,
            revoked=revoked,
            agreement_missing=agreement_missing,
            hour_limit=hour_limit,
            send_retry_after=send_retry_after,
        )

    def default_demo_key(self) -> SandboxKey:
        """An ADMIN team key of the default team; same key id and PEM for the same seed."""
        label_id = self._derive_key_id("demo")
        if label_id in self.keys:
            return self.keys[label_id]
        return self._make_key("demo", self.default_team(), roles=("ADMIN",), key_type="team")

    def key(self, key_id: str) -> SandboxKey:
        return self.keys[key_id]

    def _resolve_team(self, team: SandboxTeam | str | None) -> SandboxTeam:
        if team is None:
            return self.default_team()
        if isinstance(team, str):
            return self.teams.get(team) or self.add_team(team)
        if self.teams.get(team.name) is not team:
            raise ValueError("team does not belong to this sandbox")
        return team

    def _derive_key_id(self, label: str) -> str:
        value = stable_hash(self.seed, "key-id", label)
        chars = []
        for _ in range(10):
            value, index = divmod(value, len(_KEY_ID_ALPHABET))
            chars.append(_KEY_ID_ALPHABET[index])
        return "".join(chars)

    def _make_key(
        self,
        label: str,
        team: SandboxTeam,
        *,
        roles: Iterable[str],
        key_type: KeyType,
        revoked: bool = False,
        agreement_missing: bool = False,
        hour_limit: int = DEFAULT_HOUR_LIMIT,
        send_retry_after: bool = False,
    ) -> SandboxKey:
        key_id = self._derive_key_id(label)
        while key_id in self.keys:  # astronomically rare; keep ids unique anyway
            label += "'"
            key_id = self._derive_key_id(label)
        digest = hashlib.blake2b(f"{self.seed}|private-key|{label}".encode(), digest_size=32)
        scalar = int.from_bytes(digest.digest(), "big") % (_P256_ORDER - 1) + 1
        key = SandboxKey(
            key_id=key_id,
            team=team,
            private_key=ec.derive_private_key(scalar, ec.SECP256R1()),
            roles=roles,
            key_type=key_type,
            clock=self.now,
            revoked=revoked,
            agreement_missing=agreement_missing,
            hour_limit=hour_limit,
            send_retry_after=send_retry_after,
        )
        self.keys[key_id] = key
        return key

    # --- request log --------------------------------------------------------------------
    def requests_for(self, key_id: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.key_id == key_id]

    def clear_requests(self) -> None:
        self.requests.clear()
        self.max_concurrency.clear()
