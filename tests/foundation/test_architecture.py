"""The floors are enforced: `lint-imports` (run by CI) fails on an upward or sideways import
and on a cycle, and passes on the tree as it is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.outside_reads import REPOSITORY


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    lint = shutil.which("lint-imports")
    assert lint is not None, "import-linter is part of the test extra"
    return subprocess.run(
        [lint, "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and its import-linter configuration, to break on purpose."""
    shutil.copytree(
        REPOSITORY / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPOSITORY / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    run = _lint(tree)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # the engine reaching up into a domain
        ("sync/runner.py", "import app.sales.jobs  # noqa", "Floors"),
        # one domain into another, sideways
        ("sales/service.py", "import app.reviews.service  # noqa", "Floors"),
        # the kit importing a domain
        ("kit/money.py", "import app.finance.schemas  # noqa", "Floors"),
        # the sandbox importing Orchard
        ("sandbox/state.py", "import app.kit.money  # noqa", "imports nothing of Orchard's"),
        # a cycle between entry points (allowed to import each other, but not in a circle)
        ("registry.py", "import app.cli  # noqa", "No import cycles"),
    ],
)
def test_a_broken_floor_fails(tree: Path, module: str, line: str, contract: str) -> None:
    _append(tree / "app" / module, line)
    run = _lint(tree)
    assert run.returncode != 0
    broken = run.stdout[run.stdout.index("Broken contracts") :]
    assert contract in broken, run.stdout
