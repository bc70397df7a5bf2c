"""The text of a beta crash log (``BetaCrashLog.logText``), shaped like an Apple crash report.

Deterministic for the submission; the header names the app, build, device and OS of the
feedback so a client can check it fetched the right log.
"""

from __future__ import annotations

from app.sandbox.feedback.model import Feedback
from app.sandbox.seeding import rng, stable_uuid

EXCEPTIONS = (
    ("EXC_CRASH (SIGABRT)", "Abort trap: 6"),
    ("EXC_BAD_ACCESS (SIGSEGV)", "Segmentation fault: 11"),
    ("EXC_BREAKPOINT (SIGTRAP)", "Trace/BPT trap: 5"),
)
FRAMES = (
    "libsystem_kernel.dylib\t__pthread_kill + 8",
    "libsystem_pthread.dylib\tpthread_kill + 268",
    "libsystem_c.dylib\tabort + 180",
    "libswiftCore.dylib\t_assertionFailure(_:_:file:line:flags:) + 264",
    "UIKitCore\t-[UIApplication _run] + 816",
    "SwiftUI\tViewGraph.updateOutputs(at:) + 180",
)


def crash_log_text(item: Feedback) -> str:
    r = rng("crash-log", item.id)
    exception, signal = r.choice(EXCEPTIONS)
    process = item.app.name.replace(" ", "")
    created = item.created.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " +0000"
    lines = [
        f"Incident Identifier: {stable_uuid('incident', item.id).upper()}",
        f"Hardware Model:      {item.device.model}",
        f"Process:             {process} [{r.randrange(300, 9000)}]",
        f"Identifier:          {item.app.bundle_id}",
        f"Version:             {item.build.version} ({item.build.number})",
        "Code Type:           ARM-64 (Native)",
        "Role:                Foreground",
        f"Date/Time:           {created}",
        f"OS Version:          iPhone OS {item.os_version}",
        "Beta Identifier:     TestFlight",
        "",
        f"Exception Type:  {exception}",
        f"Termination Reason: SIGNAL {signal}",
        "",
        "Thread 0 Crashed:",
    ]
    frames = [
        *FRAMES[: r.randrange(3, len(FRAMES) + 1)],
        f"{process}\tmain + {r.randrange(40, 400)}",
    ]
    for index, frame in enumerate(frames):
        library, symbol = frame.split("\t")
        address = 0x1_8000_0000 + r.randrange(0x1000_0000)
        lines.append(f"{index:<4}{library:<32}0x{address:x} {symbol}")
    return "\n".join(lines) + "\n"
