"""Apple's SALES/SUMMARY report (FACTS §5.1) and how its rows are classified (§5.2)."""

from __future__ import annotations

from enum import StrEnum

from app.reports.ingest import Field, Layout


class UnitKind(StrEnum):
    FIRST_TIME_DOWNLOAD = "first_time_download"
    REDOWNLOAD = "redownload"
    UPDATE = "update"
    IAP = "iap"
    SUBSCRIPTION = "subscription"
    RESTORE = "restore"
    OTHER = "other"


#: Product Type Identifier → what its units count as. Unknown codes are `other` (and kept).
PRODUCT_TYPE_KINDS: dict[str, UnitKind] = {
    **dict.fromkeys(
        ("1", "1F", "1T", "F1", "1E", "1EP", "1EU", "1-B", "F1-B"), UnitKind.FIRST_TIME_DOWNLOAD
    ),
    **dict.fromkeys(("3", "3F", "3T", "F3"), UnitKind.REDOWNLOAD),
    **dict.fromkeys(("7", "7F", "7T", "F7"), UnitKind.UPDATE),
    **dict.fromkeys(("IA1", "IA1-M", "FI1", "IA9", "IA9-M"), UnitKind.IAP),
    **dict.fromkeys(("IAY", "IAY-M"), UnitKind.SUBSCRIPTION),
    "IA3": UnitKind.RESTORE,
}

MAC_PRODUCT_TYPES = ("F1", "F3", "F7", "F1-B", "FI1", "IA1-M", "IA9-M", "IAY-M")


def unit_kind(product_type: str | None) -> UnitKind:
    return PRODUCT_TYPE_KINDS.get((product_type or "").strip(), UnitKind.OTHER)


def _quoted(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def unit_kind_sql(column: str) -> str:
    """The same classification as ``unit_kind``, as a SQL expression over ``column``."""
    branches = []
    for kind in UnitKind:
        codes = [code for code, k in PRODUCT_TYPE_KINDS.items() if k is kind]
        if codes:
            branches.append(f"WHEN {column} IN ({_quoted(codes)}) THEN '{kind.value}'")
    return f"CASE {' '.join(branches)} ELSE '{UnitKind.OTHER.value}' END"


def platform_sql(product_type: str, device: str) -> str:
    """A ``ReportPlatform`` (Apple's casing: IOS, MAC_OS, …), from the product type and device."""
    return (
        f"CASE WHEN {product_type} IN ({_quoted(MAC_PRODUCT_TYPES)}) THEN 'MAC_OS' "
        f"WHEN {device} IN ('Desktop', 'Mac') THEN 'MAC_OS' "
        f"WHEN {device} = 'Apple TV' THEN 'TV_OS' "
        f"WHEN {device} = 'Apple Watch' THEN 'WATCH_OS' "
        f"WHEN {device} LIKE 'Apple Vision%' THEN 'VISION_OS' "
        f"WHEN {device} IN ('iPhone', 'iPad', 'iPod', 'iPod touch') THEN 'IOS' "
        "ELSE 'UNKNOWN' END"
    )


def platform(product_type: str | None, device: str | None) -> str:
    """``platform_sql`` of one row."""
    if product_type in MAC_PRODUCT_TYPES or device in ("Desktop", "Mac"):
        return "MAC_OS"
    if device == "Apple TV":
        return "TV_OS"
    if device == "Apple Watch":
        return "WATCH_OS"
    if device is not None and device.startswith("Apple Vision"):
        return "VISION_OS"
    return "IOS" if device in ("iPhone", "iPad", "iPod", "iPod touch") else "UNKNOWN"


SALES_LAYOUT = Layout(
    name="SALES/SUMMARY",
    fields=(
        Field("provider", ("Provider",)),
        Field("provider_country", ("Provider Country",)),
        Field("sku", ("SKU",)),
        Field("developer", ("Developer",)),
        Field("title", ("Title",)),
        Field("version", ("Version",)),
        Field("product_type", ("Product Type Identifier",), required=True),
        Field("units", ("Units",), "numeric", required=True),
        Field("developer_proceeds", ("Developer Proceeds",), "numeric"),
        Field("begin_date", ("Begin Date",), "date_mdy"),
        Field("end_date", ("End Date",), "date_mdy"),
        Field("customer_currency", ("Customer Currency",)),
        Field("country_code", ("Country Code",)),
        Field("proceeds_currency", ("Currency of Proceeds", "Proceeds Currency")),
        Field("apple_identifier", ("Apple Identifier",)),
        Field("customer_price", ("Customer Price",), "numeric"),
        Field("promo_code", ("Promo Code",)),
        Field("parent_identifier", ("Parent Identifier",)),
        Field("subscription", ("Subscription",)),
        Field("period", ("Period",)),
        Field("category", ("Category",)),
        Field("cmb", ("CMB",)),
        Field("device", ("Device",)),
        Field("supported_platforms", ("Supported Platforms",)),
        Field("proceeds_reason", ("Proceeds Reason",)),
        Field("preserved_pricing", ("Preserved Pricing",)),
        Field("client", ("Client",)),
        Field("order_type", ("Order Type",)),
    ),
)


#: PRE_ORDER/SUMMARY (FACTS §4.5, version 1_0). Not in FACTS §5: the header is the one of
#: ``samples/pre_order_summary__matisiekpl_synthetic.tsv`` (matisiekpl/appstore-sdk-go
#: ``stubs/reports/sales/pre-order.tsv``; the file is synthetic, so only its header is
#: evidence) and Apple's help page "Pre-order report" lists the same fields. Parsed by header
#: name; anything else is kept in ``extra``. ``Ordered``/``Canceled`` are read as numbers (the
#: sample writes decimals there).
PRE_ORDER_LAYOUT = Layout(
    name="PRE_ORDER",
    fields=(
        Field("provider", ("Provider",)),
        Field("title", ("Title",)),
        Field("apple_identifier", ("Apple Identifier",), required=True),
        Field("pre_order_start", ("Pre-Order Start Date",), "date_mdy"),
        Field("pre_order_end", ("Pre-Order End Date",), "date_mdy"),
        Field("ordered", ("Ordered",), "numeric", required=True),
        Field("canceled", ("Canceled", "Cancelled"), "numeric"),
        Field("cumulative_ordered", ("Cumulative Ordered",), "numeric"),
        Field("cumulative_canceled", ("Cumulative Canceled", "Cumulative Cancelled"), "numeric"),
        Field("begin_date", ("Start Date", "Begin Date"), "date_mdy"),
        Field("end_date", ("End Date",), "date_mdy"),
        Field("country_code", ("Country Code",)),
        Field("category", ("Category",)),
        Field("device", ("Device",)),
        Field("supported_platforms", ("Supported Platforms",)),
        Field("client", ("Client",)),
        Field("provider_country", ("Provider Country",)),
    ),
)
