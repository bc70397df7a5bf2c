"""Finance report layouts (FACTS §5.6), matched by header name.

Real files spell ``Sales or Return`` and ``Country Of Sale``; Apple's help page says ``Sale or
Return`` and ``Country of Sale`` — both are accepted. Columns Orchard does not model (UPC,
ISRC/ISBN, Artist/Show/Developer/Author, Label/…, Grid, ISAN/Other Identifier, and anything
new) are kept per row in ``extra``.
"""

from __future__ import annotations

from app.reports.ingest import Field, Layout

_COMMON = (
    Field("quantity", ("Quantity",), "numeric", required=True),
    Field("partner_share", ("Partner Share",), "numeric"),
    Field("extended_partner_share", ("Extended Partner Share",), "numeric", required=True),
    Field("partner_share_currency", ("Partner Share Currency",), required=True),
    Field("sale_or_return", ("Sales or Return", "Sale or Return")),
    Field("apple_identifier", ("Apple Identifier",)),
    Field("title", ("Title",)),
    Field("product_type", ("Product Type Identifier",)),
    Field("country_of_sale", ("Country Of Sale", "Country of Sale")),
    Field("preorder_flag", ("Pre-order Flag", "Pre-Order Flag")),
    Field("promo_code", ("Promo Code",)),
    Field("customer_price", ("Customer Price",), "numeric"),
    Field("customer_currency", ("Customer Currency",)),
)

FINANCIAL_LAYOUT = Layout(
    name="FINANCIAL",
    fields=(
        Field("period_start", ("Start Date",), "date_mdy", required=True),
        Field("period_end", ("End Date",), "date_mdy", required=True),
        Field("vendor_identifier", ("Vendor Identifier",)),
        *_COMMON,
    ),
)

# No real FINANCE_DETAIL sample exists (FACTS §5.6: layout unconfirmed): the same names where
# third-party parsers expect them, everything else (transaction and settlement dates, order
# type, region) in ``extra``. Some parsers expect the header first (mpfouziya ETL), others
# title lines above it (a report name, Vendor Name/Number, Start/End Date; FACTS §8): the
# header is the first of the first lines that names every required column.
FINANCE_DETAIL_LAYOUT = Layout(
    name="FINANCE_DETAIL",
    fields=(
        Field("period_start", ("Start Date",), "date_mdy"),
        Field("period_end", ("End Date",), "date_mdy"),
        Field("vendor_identifier", ("Vendor Identifier", "SKU")),
        *_COMMON,
    ),
    header_within=20,
)

#: Apple names a fiscal month after the calendar month holding its middle day
#: (08/31/2014–09/27/2014 is September 2014; a 5-week 06/29–08/02 period is July).
FISCAL_PERIOD_SQL = (
    "to_char(typed.period_start + (typed.period_end - typed.period_start) / 2, 'YYYY-MM')"
)
