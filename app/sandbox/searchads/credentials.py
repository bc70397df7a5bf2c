"""API users' credentials: an EC P-256 key pair uploaded in Apple Ads (FACTS §1 setup steps)
and the ``clientId`` / ``teamId`` / ``keyId`` the UI then shows, plus the user's roles.

Roles are per ad account (a v5 org); an account missing from :attr:`AdsCredential.roles` is
invisible to the user (no access). Role names differ slightly between the generations
(FACTS §1 vs §9 ``/acls`` roles); :data:`ROLE_NAMES` holds both spellings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.sandbox.searchads.entities import AdsAccount, AdsOrg, Campaign
from app.sandbox.searchads.options import AdsOptions
from app.sandbox.searchads.ratelimit import RateBudget

OAUTH_AUDIENCE = "https://appleid.apple.com"  # FACTS §1
SCOPE = "searchadsorg"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

#: role key → (v5 ``roleNames`` spelling, v1 ``roles`` spelling).
ROLE_NAMES: dict[str, tuple[str, str]] = {
    "ADMIN": ("Admin", "Admin"),
    "API_ACCOUNT_MANAGER": ("API Account Manager", "API Account Manager"),
    "API_ACCOUNT_READ_ONLY": ("API Account Read Only", "API Account Read Only"),
    "LIMITED_READ_WRITE": ("Limited Access API Read & Write", "Limited Access: API Read & Write"),
    "LIMITED_READ_ONLY": ("Limited Access API Read Only", "Limited Access: API Read Only"),
}
LIMITED_ROLES = frozenset({"LIMITED_READ_WRITE", "LIMITED_READ_ONLY"})


def derive_private_key(*parts: object) -> ec.EllipticCurvePrivateKey:
    """A deterministic P-256 key (same seed → same PEM), like the App Store Connect sandbox."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=32).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


@dataclass
class AccessToken:
    token: str
    client_id: str
    issued_at: datetime
    expires_at: datetime


class AdsCredential:
    """One API user's uploaded key. ``revoked``, ``roles``, ``options`` … are mutable knobs."""

    def __init__(
        self,
        *,
        client_id: str,
        team_id: str,
        key_id: str,
        user_id: int,
        org: AdsOrg,
        private_key: ec.EllipticCurvePrivateKey,
        roles: Mapping[int, str],
        rate: RateBudget,
        options: AdsOptions | None = None,
        campaign_scope: Mapping[int, frozenset[int]] | None = None,
    ) -> None:
        unknown = sorted(set(roles.values()) - set(ROLE_NAMES))
        if unknown:
            raise ValueError(f"unknown role(s): {', '.join(unknown)}")
        self.client_id = client_id
        self.team_id = team_id
        self.key_id = key_id
        self.user_id = user_id
        self.org = org
        self.roles: dict[int, str] = dict(roles)
        self.rate = rate
        self.options = options
        self.campaign_scope: dict[int, frozenset[int]] = dict(campaign_scope or {})
        self.revoked = False
        self._private_key = private_key
        self.public_key: ec.EllipticCurvePublicKey = private_key.public_key()
        self.private_key_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_key_pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    # --- access -------------------------------------------------------------------------
    def role(self, account: AdsAccount) -> str | None:
        if account.parent != self.org:
            return None  # FACTS §9: a token binds to exactly one org
        return self.roles.get(account.org_id)

    def can_see(self, account: AdsAccount) -> bool:
        return self.role(account) is not None

    def can_see_campaign(self, campaign: Campaign) -> bool:
        """Limited roles may be scoped to some campaigns (FACTS §1 [NEXLA])."""
        role = self.role(campaign.account)
        if role is None:
            return False
        scope = self.campaign_scope.get(campaign.account.org_id)
        return role not in LIMITED_ROLES or scope is None or campaign.id in scope

    # --- convenience --------------------------------------------------------------------
    def client_secret(self, now: datetime, lifetime: timedelta = timedelta(days=1)) -> str:
        """A valid client secret (FACTS §1 table) for demos; tests mint their own."""
        issued = now
        claims: dict[str, Any] = {
            "sub": self.client_id,
            "aud": OAUTH_AUDIENCE,
            "iss": self.team_id,
            "iat": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
        }
        return jwt.encode(
            claims, self._private_key, algorithm="ES256", headers={"kid": self.key_id}
        )

    def summary(self, *, include_private_key: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "client_id": self.client_id,
            "team_id": self.team_id,
            "key_id": self.key_id,
            "user_id": self.user_id,
            "org_id": self.org.org_id,
            "org_name": self.org.name,
            "roles": {str(org_id): role for org_id, role in self.roles.items()},
            "campaign_scope": {str(k): sorted(v) for k, v in self.campaign_scope.items()},
            "revoked": self.revoked,
            "rate_limit": self.rate.limit,
            "rate_window_seconds": self.rate.window_seconds,
            "remaining": self.rate.remaining(),
            "options": None if self.options is None else self.options.as_dict(),
            "public_key_pem": self.public_key_pem,
        }
        if include_private_key:
            data["private_key_pem"] = self.private_key_pem
        return data
