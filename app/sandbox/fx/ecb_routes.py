"""The ECB's URLs (FACTS §2), under the same paths as ``https://www.ecb.europa.eu``.

==================================================================  ========================
``GET /stats/eurofxref/eurofxref-daily.xml``                        latest day, XML
``GET /stats/eurofxref/eurofxref-hist-90d.xml``                     last 90 days, XML
``GET /stats/eurofxref/eurofxref-hist.xml``                         full history, XML
``GET /stats/eurofxref/eurofxref-hist.zip``                         ``eurofxref-hist.csv``
``GET /stats/eurofxref/eurofxref.zip``                              ``eurofxref.csv``
``GET /stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html``
==================================================================  ========================

Anything else under ``/stats/`` is a 404 HTML page.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.sandbox.fx import ecb_files
from app.sandbox.fx.currencies import ECB_BY_CODE
from app.sandbox.fx.numbers import fixed
from app.sandbox.fx.state import FxState

ECB_DIR = "/stats/eurofxref"
HUMAN_PAGE = "/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html"
XML_TYPE = "text/xml"
ZIP_TYPE = "application/zip"

FILES: dict[str, tuple[Callable[[FxState], bytes], str]] = {
    "eurofxref-daily.xml": (ecb_files.daily_xml, XML_TYPE),
    "eurofxref-hist-90d.xml": (ecb_files.hist_90d_xml, XML_TYPE),
    "eurofxref-hist.xml": (ecb_files.hist_xml, XML_TYPE),
    "eurofxref-hist.zip": (ecb_files.hist_zip, ZIP_TYPE),
    "eurofxref.zip": (ecb_files.daily_zip, ZIP_TYPE),
}


def not_found_page() -> HTMLResponse:
    return HTMLResponse("<html><body><h1>404 Not Found</h1></body></html>", status_code=404)


def _file_route(state: FxState, name: str) -> Route:
    render, media_type = FILES[name]

    async def serve(request: Request) -> Response:
        return Response(render(state), media_type=media_type)

    return Route(f"{ECB_DIR}/{name}", serve, methods=["GET"])


def _human_page(state: FxState) -> Route:
    async def page(request: Request) -> Response:
        latest = state.ecb.latest_on_or_before(state.ecb.today())
        rows = ""
        if latest is not None:
            rows = "".join(
                f"<tr><td>{code}</td><td>{fixed(v, ECB_BY_CODE[code].decimals)}</td></tr>"
                for code, v in state.ecb.rates(latest).items()
            )
        title = f"Euro foreign exchange reference rates ({escape(str(latest))})"
        body = (
            f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
            "<p>Sandbox copy (Orchard); not the ECB. Updated around 16:00 CET on every "
            f"working day, except on TARGET closing days.</p><table>{rows}</table></body></html>"
        )
        return HTMLResponse(body)

    return Route(HUMAN_PAGE, page, methods=["GET"])


def routes(state: FxState) -> list[Route]:
    async def missing(request: Request) -> Response:
        return not_found_page()

    return [
        *(_file_route(state, name) for name in FILES),
        _human_page(state),
        Route("/stats/{rest:path}", missing),
    ]
