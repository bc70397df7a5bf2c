"""The embedded PostgreSQL that Orchard runs when no ``ORCHARD_DATABASE_URL`` is configured.

The server comes from the ``pgserver`` package, lives in ``<data_dir>/pg`` (so data survives
restarts), and listens on a Unix socket only. Several Orchard processes on one machine may share
it: pgserver keeps a list of the processes holding a handle and stops the server when the last
one lets go.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

DATABASE_NAME = "orchard"

log = logging.getLogger("orchard.db")


class EmbeddedPostgres:
    """A handle on the embedded server; ``stop()`` releases this process's handle."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server and return an asyncpg URL for Orchard's database."""
        with warnings.catch_warnings():
            # platformdirs warns about a missing XDG_RUNTIME_DIR on headless machines.
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        exists = self._server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608  (constant)
        )
        if "(1 row)" not in exists:
            self._server.psql(f"CREATE DATABASE {DATABASE_NAME};")
            log.info("created embedded database", extra={"pgdata": str(self.pgdata)})
        return self.url()

    def url(self, database: str = DATABASE_NAME) -> str:
        # The socket directory is pgserver's choice (pgdata, or a shorter runtime path when the
        # socket path would exceed the OS limit), so read it back from the server.
        socket_dir = parse_qs(urlsplit(self._server.get_uri()).query)["host"][0]
        return f"postgresql+asyncpg://postgres@/{database}?host={quote(socket_dir)}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
