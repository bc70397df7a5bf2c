"""``/problems/<slug>``: the page a problem's ``type`` URI resolves to.

Each kind of problem is an ``AppError`` subclass (its slug, title, status and docstring), so
the pages list exactly the problems the running code can raise. Short HTML, no script.
"""

from __future__ import annotations

import inspect
from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from app.errors import AppError, NotFound

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:720px;margin:40px auto;padding:0 16px;"
    "color:#1d232a}code{background:#eef0f2;padding:0 4px;border-radius:3px}"
)
HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}
#: What each kind means for a caller, where the class docstring says nothing useful.
ADVICE = {
    "validation_error": "The request was understood but some input is invalid. `errors` lists "
    "each invalid field (`field`, `message`, `type`); nothing was changed.",
    "bad_request": "The request cannot be understood as sent. Nothing was changed.",
    "malformed_json": "The body is not valid JSON. Nothing was changed.",
    "unauthorized": "Send `Authorization: Bearer <token>` with an active Orchard token.",
    "forbidden": "The token is valid but may not do this; `required_scope` names the scope "
    "it lacks when that is the reason.",
    "not_found": "Nothing with this id exists in the token's workspace (another workspace's "
    "objects are not found either).",
    "method_not_allowed": "The path exists but not with this method.",
    "conflict": "The request conflicts with the current state; the detail says with what.",
    "payload_too_large": "The body exceeds `max_body_bytes`.",
    "rate_limited": "The token sent too many requests; wait `retry_after_seconds` "
    "(also in `Retry-After`).",
    "service_unavailable": "Orchard cannot serve this right now (the database is unreachable, "
    "or not ready); retry after `Retry-After` seconds.",
    "internal_error": "An unexpected error. Quote `request_id` when reporting it.",
}


def catalogue() -> dict[str, type[AppError]]:
    """Every kind of problem the loaded code defines, by slug (the first class wins)."""
    found: dict[str, type[AppError]] = {}
    todo: list[type[AppError]] = [AppError]
    while todo:
        kind = todo.pop(0)
        found.setdefault(kind.slug, kind)
        todo.extend(kind.__subclasses__())
    return found


def _explanation(kind: type[AppError]) -> str:
    if kind.slug in ADVICE:
        return ADVICE[kind.slug]
    own = kind.__dict__.get("__doc__")
    return inspect.cleandoc(own) if own else "See the problem's `detail`."


def _page(title: str, body: str) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, headers=HEADERS)


def install_problem_pages(app: FastAPI) -> None:
    async def problem_index() -> HTMLResponse:
        items = "".join(
            f'<li><a href="/problems/{slug}"><code>{slug}</code></a> — {escape(kind.title)} '
            f"({kind.status})</li>"
            for slug, kind in sorted(catalogue().items())
        )
        return _page(
            "Orchard problems",
            "<h1>Problems Orchard reports</h1><p>Every error is an RFC 9457 "
            "<code>application/problem+json</code> document whose <code>type</code> is one of "
            f"these pages.</p><ul>{items}</ul>",
        )

    async def problem_page(slug: str) -> HTMLResponse:
        kind = catalogue().get(slug)
        if kind is None:
            raise NotFound(f"no problem type {slug[:60]!r}")
        return _page(
            f"{kind.title} — Orchard problem",
            f"<h1>{escape(kind.title)}</h1><p>HTTP status <b>{kind.status}</b>, type "
            f"<code>/problems/{escape(slug)}</code>.</p><p>{escape(_explanation(kind))}</p>"
            '<p><a href="/problems">All problem types</a></p>',
        )

    app.add_api_route("/problems", problem_index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/problems/{slug}", problem_page, methods=["GET"], include_in_schema=False)
