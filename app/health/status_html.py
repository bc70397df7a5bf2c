"""The status page and its login form as HTML: server-rendered, no script, no external asset.

Every value is escaped (account names and error messages come from people and from Apple).
Rows carry ``data-*`` attributes naming what they show, for people's tools and for tests.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from app.health.status_page import AccountStatus, StatusSnapshot
from app.sync.schemas import PublicSyncStatusEntry, SyncStatusEntry

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;
background:#f5f6f8}
header{background:#1d232a;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header .meta{color:#aeb6bf;font-size:12px}
header form{margin-left:auto}main{padding:16px 24px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:0 0 16px;
padding:12px 16px}
h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f2;vertical-align:top}
th{font-size:12px;color:#5b6670;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600}
.good{background:#dff3e4;color:#1a6b34}.warn{background:#fff1d6;color:#8a5a00}
.bad{background:#fde2e1;color:#a4161a}.idle{background:#eceff2;color:#4b5560}
tr.bad td{background:#fff6f6}.remedy{color:#5b6670;font-size:12px;max-width:560px}
.tiles{display:flex;gap:12px;flex-wrap:wrap}.tile{background:#fff;border:1px solid #dde1e6;
border-radius:6px;padding:8px 14px;min-width:110px}.tile b{display:block;font-size:22px}
.tile.bad b{color:#a4161a}.login{max-width:420px;margin:80px auto}
input[type=password]{width:100%;padding:6px;font:inherit;box-sizing:border-box}
button{font:inherit;padding:4px 12px;margin-top:8px}.error{color:#a4161a}
"""

_STATE_CLASS = {
    "ok": "good",
    "active": "good",
    "running": "good",
    "unverified": "idle",
    "lagging": "warn",
    "pending": "warn",
    "disabled_missing_capability": "idle",
}


def _class(state: str) -> str:
    return _STATE_CLASS.get(state, "bad")


def _badge(state: str) -> str:
    return f'<span class="badge {_class(state)}">{escape(state.replace("_", " "))}</span>'


def _when(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "—"
    seconds = int((now - moment).total_seconds())
    ago = "in " + _span(-seconds) if seconds < 0 else _span(seconds) + " ago"
    return f'<time datetime="{moment.isoformat()}" title="{moment.isoformat()}">{ago}</time>'


def _span(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _page(title: str, body: str, *, refresh: int | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{meta}<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def login_page(message: str | None = None) -> str:
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    body = (
        '<main class="login"><section><h1>Orchard status</h1>'
        "<p>Sign in with an Orchard API token with the <code>read</code> scope. It is kept in "
        "a cookie for this page only.</p>"
        f'{error}<form method="post" action="/status/login">'
        '<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="off" required>'
        '<button type="submit">Sign in</button></form></section></main>'
    )
    return _page("Orchard status — sign in", body)


def _tile(label: str, value: int, *, bad: bool = False, name: str) -> str:
    css = "tile bad" if bad and value else "tile"
    return f'<div class="{css}" data-tile="{name}"><b>{value}</b>{escape(label)}</div>'


def _budget(account: AccountStatus, now: dt.datetime) -> str:
    budget = account.budget
    if budget is None:
        return "not seen yet"
    text = f"{budget.remaining} / {budget.limit} left"
    if budget.blocked_until is not None and budget.blocked_until > now:
        text += f" — held until {_when(budget.blocked_until, now)}"
    return f"{text} <small>({_when(budget.observed_at, now)})</small>"


def _account_row(account: AccountStatus, now: dt.datetime) -> str:
    fine = [d for d in account.datasets if d.state.value in ("ok", "running")]
    remedy = ""
    if not account.healthy and account.remedy:
        remedy = f'<div class="remedy" data-remedy>{escape(account.remedy)}</div>'
    code = f" <code>{escape(account.status_code)}</code>" if account.status_code else ""
    row_class = "bad" if not account.healthy else ""
    return (
        f'<tr class="{row_class}" data-account="{escape(account.name)}" '
        f'data-state="{escape(account.credential_status)}">'
        f"<td><b>{escape(account.name)}</b><br><small>key {escape(account.key_id)}</small></td>"
        f"<td>{_badge(account.credential_status)}{code}{remedy}</td>"
        f"<td>{_when(account.last_verified_at, now)}</td>"
        f"<td>{_budget(account, now)}</td>"
        f'<td class="num">{len(fine)} / {len(account.datasets)}</td>'
        "</tr>"
    )


def _dataset_row(entry: SyncStatusEntry, now: dt.datetime) -> str:
    error = ""
    if entry.last_error is not None:
        error = (
            f"<code>{escape(entry.last_error.code)}</code> {escape(entry.last_error.message)} "
            f"<small>({_when(entry.last_error.at, now)})</small>"
        )
    lag = "—" if entry.lag_days is None else f"{entry.lag_days} d"
    # The remedy is on the account's row; repeating it on every dataset hides the other rows.
    paused = entry.state.value == "paused_credentials"
    reason = "see the account's remedy" if paused else entry.reason
    units = entry.units
    return (
        f'<tr class="{"bad" if _class(entry.state.value) == "bad" else ""}" '
        f'data-account="{escape(entry.account_name)}" data-dataset="{escape(entry.dataset)}" '
        f'data-state="{entry.state.value}">'
        f"<td>{escape(entry.account_name)}</td><td><code>{escape(entry.dataset)}</code></td>"
        f"<td>{_badge(entry.state.value)}{_reason(reason)}</td>"
        f"<td>{_when(entry.last_success_at, now)}</td><td class='num'>{lag}</td>"
        f"<td class='num'>{units.queued} / {units.running} / {units.failed}</td>"
        f"<td>{error or '—'}</td></tr>"
    )


def _reason(reason: str | None) -> str:
    return f"<div class='remedy'>{escape(reason)}</div>" if reason else ""


def _public_row(entry: PublicSyncStatusEntry, now: dt.datetime) -> str:
    units = entry.units
    return (
        f'<tr data-dataset="{escape(entry.dataset)}" data-state="{entry.state.value}">'
        f"<td><code>{escape(entry.dataset)}</code></td>"
        f"<td>{_badge(entry.state.value)}{_reason(entry.reason)}</td>"
        f"<td>{_when(entry.last_success_at, now)}</td>"
        f"<td class='num'>{units.queued} / {units.running} / {units.failed}</td></tr>"
    )


def status_page(snapshot: StatusSnapshot, *, refresh_seconds: int) -> str:
    now = snapshot.generated_at
    broken = [a for a in snapshot.accounts if not a.healthy]
    datasets = [d for a in snapshot.accounts for d in a.datasets]
    failing = [d for d in datasets if _class(d.state.value) == "bad"]
    tiles = (
        '<div class="tiles">'
        + _tile("accounts", len(snapshot.accounts), name="accounts")
        + _tile("accounts failing", len(broken), bad=True, name="accounts-failing")
        + _tile("datasets failing", len(failing), bad=True, name="datasets-failing")
        + _tile("units queued", snapshot.units.queued, name="queued")
        + _tile("units running", snapshot.units.running, name="running")
        + _tile("units failed", snapshot.units.failed, bad=True, name="failed")
        + _tile("workers alive", len(snapshot.workers), bad=False, name="workers")
        + "</div>"
    )
    accounts = "".join(_account_row(a, now) for a in snapshot.accounts) or (
        '<tr><td colspan="5">No App Store Connect account is linked.</td></tr>'
    )
    dataset_rows = "".join(_dataset_row(d, now) for d in datasets)
    public_rows = "".join(_public_row(p, now) for p in snapshot.public)
    workers = "".join(
        f'<tr data-worker="{escape(w.worker_id)}"><td><code>{escape(w.worker_id)}</code></td>'
        f"<td>{escape(w.hostname)} (pid {w.pid})</td><td class='num'>{w.concurrency}</td>"
        f"<td>{_when(w.started_at, now)}</td><td>{_when(w.last_beat_at, now)}</td></tr>"
        for w in snapshot.workers
    ) or (
        '<tr class="bad" data-no-worker><td colspan="5">No worker is alive: data is not being '
        "refreshed.</td></tr>"
    )
    body = (
        f"<header><h1>Orchard status</h1><span class='meta'>workspace "
        f"<b>{escape(snapshot.workspace_name)}</b> · {now:%Y-%m-%d %H:%M:%S} UTC · refreshes "
        f"every {refresh_seconds} s</span>"
        '<form method="post" action="/status/logout"><button type="submit">Sign out</button>'
        "</form></header><main>"
        f"<section><h2>Overview</h2>{tiles}</section>"
        "<section><h2>Accounts</h2><table id='accounts'><thead><tr><th>account</th>"
        "<th>credentials</th><th>verified</th><th>Apple budget (this hour)</th>"
        f"<th class='num'>datasets ok</th></tr></thead><tbody>{accounts}</tbody></table></section>"
        "<section><h2>Datasets</h2><table id='datasets'><thead><tr><th>account</th>"
        "<th>dataset</th><th>state</th><th>fresh</th><th class='num'>lag</th>"
        "<th class='num'>queued / running / failed</th><th>last error</th></tr></thead>"
        f"<tbody>{dataset_rows}</tbody></table></section>"
        + (
            "<section><h2>Public App Store data</h2><table id='public'><thead><tr>"
            "<th>dataset</th><th>state</th><th>fresh</th>"
            "<th class='num'>queued / running / failed</th></tr></thead>"
            f"<tbody>{public_rows}</tbody></table></section>"
            if public_rows
            else ""
        )
        + "<section><h2>Workers</h2><table id='workers'><thead><tr><th>worker</th>"
        "<th>host</th><th class='num'>concurrency</th><th>started</th><th>last beat</th>"
        f"</tr></thead><tbody>{workers}</tbody></table></section></main>"
    )
    return _page(f"Orchard status — {snapshot.workspace_name}", body, refresh=refresh_seconds)
