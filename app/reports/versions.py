"""The one registry of report versions Orchard asks Apple for (FACTS §4.5).

Apple's versions drift (SALES 1_0 ↔ 1_1, SUBSCRIPTION 1_2 → 1_3 …). When Apple answers 400
naming ``filter[version]``, the sync unit reads the latest version from Apple's detail, retries
once with it and records the drift in sync-status; these defaults are only the first guess.
"""

from __future__ import annotations

REPORT_VERSIONS: dict[tuple[str, str], str] = {
    ("SALES", "SUMMARY"): "1_0",
    ("PRE_ORDER", "SUMMARY"): "1_0",
    ("SUBSCRIPTION", "SUMMARY"): "1_3",
    ("SUBSCRIPTION_EVENT", "SUMMARY"): "1_3",
    ("SUBSCRIBER", "DETAILED"): "1_3",
    ("SUBSCRIPTION_OFFER_CODE_REDEMPTION", "SUMMARY"): "1_0",
    ("WIN_BACK_ELIGIBILITY", "SUMMARY"): "1_0",
}


def report_version(report_type: str, report_subtype: str) -> str:
    return REPORT_VERSIONS[(report_type, report_subtype)]
