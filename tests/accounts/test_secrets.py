"""Private keys: ciphertext at rest, never in logs, rotation of the encryption keys."""

import base64
import logging
import os
import stat
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from app.config import Settings
from app.credentials.crypto import CredentialCipher, SecretKeysError, load_cipher
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link


def _key_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


async def test_accounts_table_holds_no_key_material(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account = (await link(client, tenant, key)).json()
    rows = await db.fetch("SELECT * FROM asc_accounts")
    dump = repr([dict(row) for row in rows])
    assert "PRIVATE KEY" not in dump
    for line in _key_lines(key.private_key_pem):
        assert line not in dump
    ciphertext = rows[0]["encrypted_private_key"]
    der = base64.b64decode("".join(_key_lines(key.private_key_pem)))
    assert der not in ciphertext
    # …and it really is the key, encrypted.
    assert app.state.asc_clients.cipher.decrypt(ciphertext) == key.private_key_pem
    history = await db.fetch(
        "SELECT * FROM asc_key_history WHERE account_id = $1", uuid.UUID(account["id"])
    )
    assert "PRIVATE KEY" not in repr(history)


async def test_logs_never_contain_token_or_key(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = sandbox.add_key("acme")
    account = (await link(client, tenant, key)).json()
    await client.post(f"/v1/accounts/{account['id']}/verify", headers=tenant.headers())
    key.revoked = True
    await client.post(f"/v1/accounts/{account['id']}/verify", headers=tenant.headers())
    bad = sandbox.add_key("acme", revoked=True)
    await link(client, tenant, bad)

    tokens = [minter.token() for minter in app.state.asc_clients._minters.values()]
    assert tokens
    text = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert "linked account" in text  # the capture did see our logs
    for token in tokens:
        assert token not in text
        assert token.split(".")[2] not in text  # not even the signature
    for pem in (key.private_key_pem, bad.private_key_pem):
        for line in _key_lines(pem):
            assert line not in text
    assert tenant.admin_token not in text


def test_development_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_cipher(settings)
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    ciphertext = first.encrypt("hello")
    assert load_cipher(settings).decrypt(ciphertext) == "hello"


def test_processes_starting_at_once_read_one_whole_development_key(tmp_path: Path) -> None:
    """Replicas sharing a data directory start together: each reads the key another is writing
    only once it is whole (an empty file read half-way failed one at start-up), and all agree."""
    for round_ in range(40):
        folder = tmp_path / str(round_)
        start = threading.Barrier(8)
        found: list[CredentialCipher | Exception] = []

        def load(folder: Path = folder, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                found.append(load_cipher(Settings(data_dir=folder)))
            except Exception as error:
                found.append(error)

        threads = [threading.Thread(target=load) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not [f for f in found if isinstance(f, Exception)], found
        token = Fernet((folder / "secret.key").read_text().strip().encode()).encrypt(b"same")
        assert {c.decrypt(token) for c in found if isinstance(c, CredentialCipher)} == {"same"}


def test_production_refuses_to_start_without_keys(tmp_path: Path) -> None:
    with pytest.raises(SecretKeysError, match="ORCHARD_SECRET_KEYS must be set"):
        load_cipher(Settings(data_dir=tmp_path, env="production"))  # type: ignore[arg-type]
    with pytest.raises(SecretKeysError, match="key #1 is not a Fernet key"):
        load_cipher(Settings(secret_keys="not-a-key"))  # type: ignore[arg-type]
    assert not (tmp_path / "secret.key").exists()


def test_cipher_rotation_moves_to_the_first_key() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    ciphertext = CredentialCipher([old]).encrypt("pem")
    rotated = CredentialCipher([new, old]).rotate(ciphertext)
    assert CredentialCipher([new]).decrypt(rotated) == "pem"
    with pytest.raises(SecretKeysError):
        CredentialCipher([new]).decrypt(ciphertext)


async def test_keys_rotate_command_reencrypts_every_credential(
    database_url: str, tmp_path: Path, db: asyncpg.Connection, sandbox: SandboxState
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    from app.accounts import service
    from app.accounts.schemas import AccountCreate
    from app.credentials.clients import AscClientFactory
    from app.db.engine import create_engine, create_sessionmaker
    from app.registry import build_registry
    from tests.fixtures.accounts import make_tenant

    registry = build_registry(Settings())

    tenant = await make_tenant(database_url, "acme")
    key = sandbox.add_key("acme")
    engine = create_engine(database_url, pool_size=1)
    async with httpx.AsyncClient() as http, create_sessionmaker(engine)() as session:
        factory = AscClientFactory(http, "https://unused.test", CredentialCipher([old.encode()]))
        payload = AccountCreate(
            name="a", key_id=key.key_id, issuer_id=key.issuer_id, private_key=key.private_key_pem
        )
        await service.link_account(
            session, factory, registry, tenant.workspace_id, payload, verify=False
        )
        await session.commit()
    await engine.dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    env.update(ORCHARD_DATABASE_URL=database_url, ORCHARD_SECRET_KEYS=f"{new},{old}")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 1 credential" in result.stdout
    ciphertext = await db.fetchval("SELECT encrypted_private_key FROM asc_accounts")
    assert CredentialCipher([new.encode()]).decrypt(ciphertext) == key.private_key_pem
