"""When a failed delivery is tried again: exponential backoff with jitter over about a day.

Attempt 1 goes out at once; after a failure, attempt n+1 waits ``RETRY_DELAYS[n-1]`` (±10 %
jitter, so endpoints that failed together do not retry in lockstep), or longer when the
receiver asked with ``Retry-After`` (honoured up to 8 hours). After attempt 10 (about 23.6
hours after the first) the delivery is ``failed``; ``POST …/retry`` sends it again.
"""

from __future__ import annotations

import datetime as dt
import random

RETRY_DELAYS = (
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=1),
    dt.timedelta(hours=2),
    dt.timedelta(hours=4),
    dt.timedelta(hours=8),
    dt.timedelta(hours=8),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1
MAX_RETRY_AFTER = dt.timedelta(hours=8)


def retry_delay(
    attempts: int, rng: random.Random, retry_after: dt.timedelta | None = None
) -> dt.timedelta | None:
    """The wait after ``attempts`` failed attempts; None when they are exhausted."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[max(attempts, 1) - 1] * rng.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay
