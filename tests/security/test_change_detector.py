"""The check that hostile and foreign requests change nothing (``changed_tables``) sees every
kind of write: it compares row versions and counts, not contents, so each case here is one it
must not miss (or, for a token's ``last_used_at``, one it must let through)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.fixtures.accounts import Tenant
from tests.fixtures.database import plain
from tests.security.world import changed_tables, database_state

NEW_WORKSPACE = "INSERT INTO workspaces (id, name) VALUES (gen_random_uuid(), 'another')"


async def _changed_by(db: asyncpg.Connection, *statements: str) -> list[str]:
    before = await database_state(db)
    for statement in statements:
        await db.execute(statement)
    return await changed_tables(db, before)


@pytest.mark.parametrize(
    ("statements", "changed"),
    [
        pytest.param((), [], id="nothing"),
        pytest.param(("SELECT * FROM workspaces FOR UPDATE",), [], id="a-lock-only"),
        pytest.param((NEW_WORKSPACE,), ["workspaces"], id="insert"),
        pytest.param(("UPDATE workspaces SET name = name || '!'",), ["workspaces"], id="update"),
        # The same content again is still a write (stricter than comparing contents).
        pytest.param(("UPDATE workspaces SET name = name",), ["workspaces"], id="same-update"),
        pytest.param(("DELETE FROM api_tokens",), ["api_tokens"], id="delete"),
        pytest.param(
            (
                "CREATE TEMPORARY TABLE kept AS SELECT * FROM api_request_budgets",
                "DELETE FROM api_request_budgets",
                "INSERT INTO api_request_budgets SELECT * FROM kept",
            ),
            [],
            id="budgets-are-left-out",
        ),
        pytest.param(
            ("UPDATE api_tokens SET last_used_at = now() - interval '1 hour'",),
            [],
            id="token-last-used-moves-by-design",
        ),
        pytest.param(
            ("UPDATE api_tokens SET revoked_at = now()",), ["api_tokens"], id="token-revoked"
        ),
    ],
)
async def test_every_write_is_seen(
    db: asyncpg.Connection, tenant: Tenant, statements: tuple[str, ...], changed: list[str]
) -> None:
    assert await db.fetchval("SELECT count(*) FROM api_tokens") > 0
    assert await _changed_by(db, *statements) == changed


async def test_a_row_deleted_and_written_back_is_seen(db: asyncpg.Connection) -> None:
    """Same count, same content, but new row versions."""
    await db.execute(NEW_WORKSPACE)
    changed = await _changed_by(
        db,
        "CREATE TEMPORARY TABLE kept AS SELECT * FROM workspaces",
        "DELETE FROM workspaces",
        "INSERT INTO workspaces SELECT * FROM kept",
    )
    assert "workspaces" in changed  # (a trigger writes fx_data_version too)


async def test_a_write_in_a_partition_is_seen_through_its_table(db: asyncpg.Connection) -> None:
    await db.execute(
        "CREATE TABLE readings (kind text, value int) PARTITION BY LIST (kind);"
        "CREATE TABLE readings_a PARTITION OF readings FOR VALUES IN ('a');"
        "CREATE TABLE readings_b PARTITION OF readings FOR VALUES IN ('b');"
        "INSERT INTO readings VALUES ('a', 1), ('b', 2)"
    )
    assert await _changed_by(db, "UPDATE readings SET value = value WHERE kind = 'b'") == [
        "readings"
    ]
    assert await _changed_by(db, "DELETE FROM readings_a") == ["readings"]


async def test_a_write_committed_after_the_state_was_taken_is_seen(
    db: asyncpg.Connection, database_url: str, tenant: Tenant
) -> None:
    """A transaction already running (its id taken) when the state is taken, committed after."""
    writer = await asyncpg.connect(plain(database_url))
    try:
        transaction = writer.transaction()
        await transaction.start()
        await writer.execute("UPDATE workspaces SET name = name")
        before = await database_state(db)
        await transaction.commit()
    finally:
        await writer.close()
    assert await changed_tables(db, before) == ["workspaces"]
