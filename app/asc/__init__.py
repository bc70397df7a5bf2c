"""App Store Connect API client: ES256 tokens, retries, rate limits, paging and reports.

Import from the submodules (``app.asc.client``, ``app.asc.errors``, ...) or from here for
the common names.
"""

from app.asc.client import AscClient, join_param
from app.asc.errors import (
    AscAgreementRequired,
    AscConflict,
    AscError,
    AscForbidden,
    AscGone,
    AscInvalidParameter,
    AscNotFound,
    AscPagingLoop,
    AscRateLimited,
    AscReportCorrupt,
    AscServerError,
    AscTransportError,
    AscUnauthorized,
    AscUnprocessable,
    ForbiddenReason,
    NotFoundKind,
    error_from_response,
)
from app.asc.http_client import create_http_client
from app.asc.jsonapi import Document, Resource
from app.asc.jwt import (
    AscCredentials,
    InvalidPrivateKey,
    TokenMinter,
    load_private_key,
    public_key_fingerprint,
)
from app.asc.ratelimit import RateLimitInfo, parse_rate_limit
from app.asc.report_download import ReportDownload, finance_report_params, sales_report_params
from app.asc.retry import RetryPolicy

__all__ = [
    "AscAgreementRequired",
    "AscClient",
    "AscConflict",
    "AscCredentials",
    "AscError",
    "AscForbidden",
    "AscGone",
    "AscInvalidParameter",
    "AscNotFound",
    "AscPagingLoop",
    "AscRateLimited",
    "AscReportCorrupt",
    "AscServerError",
    "AscTransportError",
    "AscUnauthorized",
    "AscUnprocessable",
    "Document",
    "ForbiddenReason",
    "InvalidPrivateKey",
    "NotFoundKind",
    "RateLimitInfo",
    "ReportDownload",
    "Resource",
    "RetryPolicy",
    "TokenMinter",
    "create_http_client",
    "error_from_response",
    "finance_report_params",
    "join_param",
    "load_private_key",
    "parse_rate_limit",
    "public_key_fingerprint",
    "sales_report_params",
]
