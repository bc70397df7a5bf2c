"""The suite runs from a bare clone: no test may read beside the repository."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tests.fixtures.apple_files import ASC_DATA, SAMPLES, asc_openapi_spec
from tests.fixtures.outside_reads import REPOSITORY, outside_repository


def test_paths_beside_the_repository_are_outside() -> None:
    assert outside_repository(REPOSITORY.parent / "sibling-checkout" / "FACTS.md")
    assert outside_repository(str(REPOSITORY) + "-other/file")
    assert not outside_repository(REPOSITORY / "tests" / "data")
    assert not outside_repository(REPOSITORY)
    assert not outside_repository("/proc/self/status")
    assert not outside_repository(3)  # a file descriptor


def test_what_the_session_creates_beside_the_repository_is_not_outside() -> None:
    created = Path(tempfile.mkdtemp(dir=REPOSITORY.parent, prefix="orchard-session-"))
    try:
        assert not outside_repository(created / "data")
    finally:
        created.rmdir()


def test_a_test_reading_beside_the_repository_fails(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        textwrap.dedent(
            f"""
            import contextlib

            def test_reads_beside():
                with contextlib.suppress(OSError):
                    open({str(REPOSITORY.parent / "sibling-checkout" / "FACTS.md")!r})

            def test_reads_inside():
                open({str(REPOSITORY / "pyproject.toml")!r}).close()
            """
        )
    )
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-p", "tests.fixtures.outside_reads", f"--rootdir={tmp_path}", str(probe)),
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "test_reads_beside read outside the repository" in run.stdout


def test_apple_files_are_in_the_repository() -> None:
    assert (ASC_DATA / "SOURCE.md").is_file()
    assert (SAMPLES / "README.md").is_file()
    assert asc_openapi_spec()["info"]["version"] == "4.4.1"
