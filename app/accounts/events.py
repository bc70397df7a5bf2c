"""The accounts domain's webhook event: a linked key's credential status changed."""

from __future__ import annotations

from app.accounts.schemas import AccountRead
from app.credentials.states import CREDENTIAL_STATUS_CHANGED, CredentialStatus
from app.outbox.catalogue import EventTypeSpec


class AccountCredentialStatusChanged(AccountRead):
    """The account as `GET /v1/accounts/{id}` shows it, and its status before the change."""

    previous_credential_status: CredentialStatus


EVENT_TYPES = [
    EventTypeSpec(
        name=CREDENTIAL_STATUS_CHANGED,
        summary="A linked account's credential status changed",
        description="The key was revoked, lost an agreement, verified again, was rotated or "
        "unlinked: `credential_status` is the new status with `status_reason` saying what to "
        "do, `previous_credential_status` the one before. Sync pauses while the status is "
        "`revoked_or_invalid` or `agreement_required` and resumes once the key verifies.",
        data=AccountCredentialStatusChanged,
    )
]
