"""A pytest plugin that fails the test session if a secret ever reached a log record.

Every log record of the whole suite goes through one root handler at DEBUG, formatted like
production logs (message, ``extra`` fields, exception text) and scanned for private keys (PEM
blocks), Orchard tokens and JWTs (Apple bearer tokens). A hit does not fail the test that
logged it (the test may be asserting something else entirely); it fails the SESSION at the
end, with a list of where each secret was logged. Findings are redacted: the report must not
leak what it found.

Registered from ``tests/conftest.py``; ``tests/security/test_secrets.py`` proves it catches a
planted secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from app.kit.logging import JsonFormatter

PATTERNS: dict[str, re.Pattern[str]] = {
    "PEM block": re.compile(r"-----BEGIN[A-Z ]*-----"),
    "Orchard token": re.compile(r"orch_[A-Za-z0-9_-]{40,}"),
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
    "webhook signing secret": re.compile(r"whsec_[A-Za-z0-9+/=]{20,}"),
}
PLUGIN_NAME = "orchard_secrets_guard"
#: Where a pytest-xdist worker hands its findings to the controller.
WORKER_OUTPUT_KEY = "orchard_secrets_found"


@dataclass(frozen=True)
class Finding:
    kind: str
    redacted: str  # the first characters and the length, never the secret
    where: str  # test id and logger

    def __str__(self) -> str:
        return f"{self.kind} ({self.redacted}) logged by {self.where}"


def redact(secret: str) -> str:
    """Enough to tell the kind apart (``orch_``, ``eyJhb``, ``-----``), nothing of the secret."""
    return f"{secret[:5]}… {len(secret)} chars"


def scan(text: str) -> list[tuple[str, str]]:
    """Every (kind, match) of a secret pattern in ``text``."""
    return [
        (kind, match.group(0))
        for kind, pattern in PATTERNS.items()
        for match in pattern.finditer(text)
    ]


class _GuardHandler(logging.Handler):
    def __init__(self, guard: SecretsGuard) -> None:
        super().__init__(logging.DEBUG)
        self.guard = guard
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted: scan what we can
            text = f"{record.msg!r} {record.args!r} {record.__dict__!r}"
        for kind, secret in scan(text):
            self.guard.found(Finding(kind, redact(secret), f"{self.guard.test} ({record.name})"))


class SecretsGuard:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.handler = _GuardHandler(self)
        self.test = "collection"
        self._planted: list[Finding] | None = None

    def found(self, finding: Finding) -> None:
        if self._planted is not None:
            self._planted.append(finding)
        elif finding not in self.findings:
            self.findings.append(finding)

    @contextmanager
    def planted(self) -> Iterator[list[Finding]]:
        """For the guard's own test: what is logged inside is caught but not held against the
        session."""
        caught: list[Finding] = []
        self._planted = caught
        try:
            yield caught
        finally:
            self._planted = None

    def _install(self) -> None:
        # Some code under test reconfigures logging (``configure_logging`` replaces the root
        # handlers): the guard puts itself back before every test phase.
        root = logging.getLogger()
        if self.handler not in root.handlers:
            root.addHandler(self.handler)
        if root.level > logging.DEBUG or root.level == logging.NOTSET:
            root.setLevel(logging.DEBUG)

    # -- hooks --------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        self._install()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.test = item.nodeid
        try:
            return (yield)
        finally:
            self.test = "between tests"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._install()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        self._install()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        self._install()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        worker_output = getattr(session.config, "workeroutput", None)
        if worker_output is not None:
            # A pytest-xdist worker: its exit status is not the session's, so the findings go
            # to the controller (``pytest_testnodedown``), which fails the session.
            worker_output[WORKER_OUTPUT_KEY] = [
                (f.kind, f.redacted, f.where) for f in self.findings
            ]
        if self.findings:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """pytest-xdist's controller: a worker is done; its findings are the session's."""
        for kind, redacted, where in getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY, []):
            self.found(Finding(kind, redacted, where))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.findings:
            return
        terminalreporter.section("secrets in logs", sep="=", red=True, bold=True)
        terminalreporter.line(
            f"{len(self.findings)} secret(s) reached a log record; the session fails:", red=True
        )
        for finding in self.findings:
            terminalreporter.line(f"  - {finding}", red=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        logging.getLogger().removeHandler(self.handler)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(SecretsGuard(), PLUGIN_NAME)


def guard_of(config: pytest.Config) -> SecretsGuard:
    guard = config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(guard, SecretsGuard), "tests/secrets_guard.py is not registered"
    return guard
