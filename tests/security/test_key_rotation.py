"""Rotating the credential encryption key while sync workers run.

Keys are read once per process at start. The operator's procedure (README, Configuration):
restart every process with ``ORCHARD_SECRET_KEYS=new,old``, run ``orchard keys rotate``, then
restart every process with ``ORCHARD_SECRET_KEYS=new``. Here each "restart" is a new worker
taking over from the previous one while units keep flowing, and the rotation runs while a
worker is claiming units. No unit may fail, and nothing may be logged about decryption.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr

from app.accounts import service as accounts
from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.credentials.crypto import CredentialCipher, SecretKeysError, load_cipher
from app.db.engine import create_engine, create_sessionmaker
from app.registry import worker_parts
from app.sandbox.state import SandboxState
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import Tenant, link_account

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "secret_keys": SecretStr(OLD_KEY),
            "initial_backfill_days": 4,
            "retry_base_seconds": 0.01,
            "lease_seconds": 5.0,
            "worker_poll_seconds": 0.02,
            "scheduler_seconds": 0.2,
            "budget_reserve": 3,
            "worker_concurrency": 2,
            "shutdown_timeout_seconds": 10.0,
        }
    )


def process_with_keys(app: FastAPI, settings: Settings, keys: str) -> SyncWorker:
    """A worker process as started with ``ORCHARD_SECRET_KEYS=keys`` (it reads them once)."""
    restarted = settings.model_copy(update={"secret_keys": SecretStr(keys)})
    shared: AscClientFactory = app.state.asc_clients
    factory = AscClientFactory(
        shared.http, shared.base_url, load_cipher(restarted), retry=shared.retry
    )
    return SyncWorker(restarted, app.state.sessionmaker, factory, worker_parts(restarted))


async def states(db: asyncpg.Connection) -> Counter[str]:
    rows = await db.fetch("SELECT state FROM sync_jobs")
    return Counter(row["state"] for row in rows)


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def test_rotation_while_workers_run_loses_no_unit(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    settings: Settings,
    database_url: str,
    db: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for team in ("Rotation One", "Rotation Two"):
        await link_account(client, tenant, sandbox.add_key(sandbox.add_team(team, apps=1)))
    total = sum((await states(db)).values())
    assert total > 40  # enough units that the rotation lands mid-stream

    async def done(count: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return (await states(db))["succeeded"] >= count

        return check

    # 1. Running with the old key only.
    old_only = process_with_keys(app, settings, OLD_KEY)
    await old_only.start()
    await wait_until(await done(5))

    # 2. Rolling restart with new,old: the new process starts, the old one stops.
    both = process_with_keys(app, settings, f"{NEW_KEY},{OLD_KEY}")
    await both.start()
    await old_only.stop()
    before_rotation = (await states(db))["succeeded"]

    # 3. `orchard keys rotate`, from its own process (own engine), while `both` claims units.
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            rotator = AscClientFactory(
                app.state.asc_clients.http,
                settings.asc_base_url,
                CredentialCipher([NEW_KEY.encode(), OLD_KEY.encode()]),
            )
            rotated = await accounts.rotate_encryption(session, rotator)
            await session.commit()
    finally:
        await engine.dispose()
    assert rotated == 2
    assert before_rotation < total, "the rotation must happen while work is still queued"

    # Every stored key is now under the new key only: the old key can really go.
    for ciphertext in await db.fetch("SELECT encrypted_private_key AS c FROM asc_accounts"):
        CredentialCipher([NEW_KEY.encode()]).decrypt(ciphertext["c"])
        with pytest.raises(SecretKeysError):
            CredentialCipher([OLD_KEY.encode()]).decrypt(ciphertext["c"])
    await wait_until(await done(before_rotation + 5))

    # 4. Rolling restart with the new key only; it finishes the backfill.
    new_only = process_with_keys(app, settings, NEW_KEY)
    await new_only.start()
    await both.stop()

    async def settled() -> bool:
        current = await states(db)
        return current["queued"] + current["running"] == 0

    await wait_until(settled, timeout=60)
    await new_only.stop()

    final = await states(db)
    assert final["failed"] == 0, final
    assert set(final) <= {"succeeded", "waiting"}, final
    errors = await db.fetch(
        "SELECT dataset, unit_key, last_error_code, last_error_message FROM sync_jobs "
        "WHERE last_error_code IS NOT NULL OR last_error_message IS NOT NULL"
    )
    assert not errors, [dict(row) for row in errors]
    bad = [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR
        or "decrypt" in record.getMessage()
        or (record.exc_info and isinstance(record.exc_info[1], SecretKeysError))
    ]
    assert not bad, [(r.name, r.getMessage(), r.exc_info) for r in bad]
