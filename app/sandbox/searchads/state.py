"""Everything the Apple Ads sandbox remembers: clock, world, credentials, tokens, request log.

The world (orgs, ad accounts, campaigns …) is generated from ``seed`` when the state is built;
``anchor`` (default: the clock's UTC date at that moment) fixes where campaign histories sit,
so the world stays put while the clock moves. Metrics are generated on demand
(:mod:`.delivery`) and observed at ``state.now()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.sandbox.searchads.credentials import AccessToken, AdsCredential, derive_private_key
from app.sandbox.searchads.delivery import Delivery, Observer, RestatementSettings
from app.sandbox.searchads.entities import AdsAccount, AdsApp, AdsOrg
from app.sandbox.searchads.options import V5_SUNSET_AT, AdsOptions
from app.sandbox.searchads.ratelimit import DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS, RateBudget
from app.sandbox.searchads.truth import AdsTruth
from app.sandbox.searchads.world import DEFAULT_ACCOUNTS, AccountSpec, AdsWorld, default_apps
from app.sandbox.seeding import stable_hash, stable_uuid

DEFAULT_ORG_NAME = "Lakeside Apps"
TOKEN_LIFETIME = timedelta(hours=1)  # FACTS §1: expires_in 3600


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AdsRequestRecord:
    """One API or token request as the sandbox saw it."""

    api: str  # "v1", "v5" or "oauth"
    client_id: str | None
    method: str
    path: str
    status: int
    at: datetime  # sandbox clock
    error_code: str | None = None
    context: str | None = None  # the X-AP-Context header as sent

    def as_dict(self) -> dict[str, object]:
        return {
            "api": self.api,
            "client_id": self.client_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "at": self.at.isoformat(),
            "error_code": self.error_code,
            "context": self.context,
        }


class AppleAdsState:
    """The simulator's world. ``clock`` must return aware UTC datetimes.

    ``token_clock`` (default: ``clock``) is what client-secret ``iat``/``exp`` are checked
    against; set it to :func:`utc_now` when a client signs with real time while ``clock`` is
    fake. ``apps`` are the apps campaigns promote (Orchard's linked apps); each App Store
    account also gets one campaign for an app Orchard does not know (``AdsApp.linked`` False).
    """

    def __init__(
        self,
        seed: int = 42,
        clock: Callable[[], datetime] | None = None,
        *,
        apps: Sequence[AdsApp] | None = None,
        accounts: Sequence[AccountSpec] = DEFAULT_ACCOUNTS,
        org_name: str = DEFAULT_ORG_NAME,
        anchor: date | None = None,
        restatement_days: int = 30,
        restatement_step: timedelta = timedelta(hours=6),
        data_lag: timedelta = timedelta(hours=3),
        token_lifetime: timedelta = TOKEN_LIFETIME,
        rate_limit: int = DEFAULT_LIMIT,
        rate_window_seconds: int = DEFAULT_WINDOW_SECONDS,
        v5_sunset_at: datetime | None = V5_SUNSET_AT,
        options: AdsOptions | None = None,
    ) -> None:
        self.seed = seed
        self.clock: Callable[[], datetime] = clock or utc_now
        self.token_clock: Callable[[], datetime] | None = None
        self.restatement = RestatementSettings(
            timedelta(days=restatement_days), restatement_step, data_lag
        )
        self.token_lifetime = token_lifetime
        self.rate_limit = rate_limit
        self.rate_window_seconds = rate_window_seconds
        self.v5_sunset_at = v5_sunset_at
        self.options = options or AdsOptions()
        chosen_apps = tuple(apps) if apps is not None else default_apps(seed)
        self.world = AdsWorld(seed, anchor or self.now().date(), chosen_apps)
        self.delivery = Delivery(self.world)
        self.credentials: dict[str, AdsCredential] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.requests: list[AdsRequestRecord] = []
        #: Statuses the next API requests answer with (FACTS §4: 500 "temporarily down").
        self.failures: list[tuple[int, str | None]] = []
        self.truth = AdsTruth(self)
        self._counter = 0
        self.org = self.add_org(org_name, accounts)

    # --- time ---------------------------------------------------------------------------
    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the Apple Ads sandbox clock must return timezone-aware datetimes")
        return now

    def token_now(self) -> datetime:
        return (self.token_clock or self.clock)()

    def observer(self) -> Observer:
        return Observer(self.delivery, self.now(), self.restatement)

    def v5_is_sunset(self) -> bool:
        return self.v5_sunset_at is not None and self.now() >= self.v5_sunset_at

    def set_restatement(
        self,
        *,
        days: int | None = None,
        step: timedelta | None = None,
        lag: timedelta | None = None,
    ) -> None:
        current = self.restatement
        self.restatement = RestatementSettings(
            timedelta(days=days) if days is not None else current.window,
            step if step is not None else current.step,
            lag if lag is not None else current.lag,
        )

    # --- world --------------------------------------------------------------------------
    def add_org(self, name: str, accounts: Iterable[AccountSpec] = ()) -> AdsOrg:
        org = self.world.add_org(name)
        for spec in accounts:
            self.world.add_account(org, spec)
        return org

    def add_account(self, spec: AccountSpec, org: AdsOrg | None = None) -> AdsAccount:
        return self.world.add_account(org or self.org, spec)

    def accounts(self, org: AdsOrg | None = None) -> list[AdsAccount]:
        return list(self.world.accounts_of(org or self.org))

    def account(self, label_or_currency: str) -> AdsAccount:
        """An account of the default org by name suffix or currency (test convenience)."""
        for account in self.accounts():
            if account.name.endswith(label_or_currency) or account.currency == label_or_currency:
                return account
        raise KeyError(label_or_currency)

    # --- credentials --------------------------------------------------------------------
    def add_credential(
        self,
        roles: Mapping[AdsAccount, str] | Mapping[int, str] | None = None,
        *,
        org: AdsOrg | None = None,
        rate_limit: int | None = None,
        rate_window_seconds: int | None = None,
        options: AdsOptions | None = None,
        campaign_scope: Mapping[AdsAccount, Iterable[int]]
        | Mapping[int, Iterable[int]]
        | None = None,
        team_id_equals_client_id: bool = False,
        label: str | None = None,
    ) -> AdsCredential:
        """A new API user with a fresh key. ``roles`` default: read-only on every account
        of the org; keys may be accounts or v5 org ids; omit an account to deny it."""
        self._counter += 1
        label = label or f"credential-{self._counter}"
        org = org or self.org
        if roles is None:
            roles = dict.fromkeys(self.world.accounts_of(org), "API_ACCOUNT_READ_ONLY")
        client_id = f"SEARCHADS.{stable_uuid(self.seed, 'client', label)}"
        credential = AdsCredential(
            client_id=client_id,
            team_id=client_id
            if team_id_equals_client_id
            else f"SEARCHADS.{stable_uuid(self.seed, 'team', label)}",
            key_id=stable_uuid(self.seed, "key", label),
            user_id=100_000_000 + stable_hash(self.seed, "user", label) % 900_000_000,
            org=org,
            private_key=derive_private_key(self.seed, "ads-private-key", label),
            roles={_org_id(k): v for k, v in roles.items()},
            rate=RateBudget(
                self.now,
                self.rate_limit if rate_limit is None else rate_limit,
                rate_window_seconds or self.rate_window_seconds,
            ),
            options=options,
            campaign_scope={_org_id(k): frozenset(v) for k, v in (campaign_scope or {}).items()},
        )
        if client_id in self.credentials:
            raise ValueError(f"credential label {label!r} already used")
        self.credentials[client_id] = credential
        return credential

    def demo_credential(self) -> AdsCredential:
        """Read-only on every account; the same ids and PEM for the same seed."""
        existing = self.credentials.get(f"SEARCHADS.{stable_uuid(self.seed, 'client', 'demo')}")
        return existing or self.add_credential(label="demo")

    def options_for(self, credential: AdsCredential | None) -> AdsOptions:
        if credential is not None and credential.options is not None:
            return credential.options
        return self.options

    # --- tokens -------------------------------------------------------------------------
    def issue_token(self, credential: AdsCredential) -> AccessToken:
        self._counter += 1
        now = self.now()
        value = f"{stable_hash(self.seed, 'token', self._counter, credential.client_id):016x}"
        token = AccessToken(
            token=f"sbx-ads.{self._counter}.{value}",
            client_id=credential.client_id,
            issued_at=now,
            expires_at=now + self.token_lifetime,
        )
        self.tokens[token.token] = token
        return token

    def credential_for_token(self, token: str) -> AdsCredential | None:
        """The credential behind a live access token (None: unknown, expired or revoked)."""
        access = self.tokens.get(token)
        if access is None or self.now() >= access.expires_at:
            return None
        credential = self.credentials.get(access.client_id)
        return None if credential is None or credential.revoked else credential

    # --- failures -----------------------------------------------------------------------
    def inject_failures(self, status: int = 500, count: int = 1, api: str | None = None) -> None:
        """The next ``count`` requests to ``api`` ("v1", "v5"; None: either) fail with
        ``status`` before authentication, without using any rate budget."""
        self.failures.extend([(status, api)] * count)

    def take_failure(self, api: str) -> int | None:
        for index, (status, wanted) in enumerate(self.failures):
            if wanted in (None, api):
                del self.failures[index]
                return status
        return None

    # --- request log --------------------------------------------------------------------
    def requests_for(self, client_id: str) -> list[AdsRequestRecord]:
        return [r for r in self.requests if r.client_id == client_id]

    def clear_requests(self) -> None:
        self.requests.clear()


def _org_id(key: AdsAccount | int) -> int:
    return key.org_id if isinstance(key, AdsAccount) else int(key)
