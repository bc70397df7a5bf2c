"""The long fuzzing run: schemathesis against the committed OpenAPI with many examples.

    python tests/benchmarks/fuzz_long.py --examples 200 [--scenarios 100] [--seed N]

Runs the same machinery as the CI profile (``tests/security/test_fuzz.py``: a synced world,
a valid token, real ids in half the cases, every phase plus stateful link-following) with a
larger budget, then prints a summary: operations, requests sent, answers by status, and every
finding (an operation whose responses broke the spec or answered 5xx). Exit status 1 when
anything was found. Needs what the test suite needs (an embedded or configured PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class Summary:
    """Collects outcomes from the pytest run."""

    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.passed:
            self.passed.append(report.nodeid)
        elif report.failed:
            message = report.longreprtext.strip().splitlines()
            self.failed[report.nodeid] = "\n      ".join(message[-12:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="examples per operation")
    parser.add_argument("--scenarios", type=int, default=100, help="stateful scenarios")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)

    os.environ["ORCHARD_FUZZ_EXAMPLES"] = str(args.examples)
    os.environ["ORCHARD_FUZZ_SCENARIOS"] = str(args.scenarios)
    os.environ["ORCHARD_FUZZ_SEED"] = str(args.seed)
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    summary = Summary()
    started = time.perf_counter()
    code = pytest.main(
        [
            "tests/security/test_fuzz.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:logging",  # thousands of requests: keep the log capture out of memory
            "--tb=short",
        ],
        plugins=[summary],
    )
    elapsed = time.perf_counter() - started

    from tests.security.fuzzing import TALLY

    print()
    print(f"fuzzing summary (seed {args.seed}, {args.examples} examples per operation, ", end="")
    print(f"{args.scenarios} stateful scenarios)")
    print(f"  operations tested: {len(TALLY.operations)} (method × path, incl. unsupported)")
    print(f"  requests sent:     {TALLY.requests} in {elapsed:.0f} s")
    print(f"  with real ids:     {TALLY.real_ids}")
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(TALLY.statuses.items()))
    print(f"  answers by status: {statuses}")
    print(f"  findings:          {len(summary.failed)}")
    for nodeid, message in summary.failed.items():
        print(f"    - {nodeid}\n      {message}")
    return 0 if code == 0 and not summary.failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
