"""The subscription-family report layouts (FACTS §5.3–5.5), matched by header name.

Apple serves version 1_3 today; the real samples are 1_2. Every field lists the header names
both versions (and the known spelling variants) use, so either parses; columns nobody knows
yet are kept per row in ``extra``.
"""

from __future__ import annotations

from app.reports.ingest import Field, Layout

_APP_AND_SUBSCRIPTION = (
    Field("app_name", ("App Name",)),
    Field("app_apple_id", ("App Apple ID",)),
    Field("subscription_name", ("Subscription Name",)),
    Field("subscription_apple_id", ("Subscription Apple ID",), required=True),
    Field("subscription_group_id", ("Subscription Group ID",)),
    Field("standard_duration", ("Standard Subscription Duration",)),
)
# 1_3 renamed "Promotional Offer Name" to "Subscription Offer Name".
_OFFER_NAME = Field("offer_name", ("Subscription Offer Name", "Promotional Offer Name"))
_PROMOTIONAL_OFFER_ID = Field("promotional_offer_id", ("Promotional Offer ID",))
_OFFER_TYPE = Field("offer_type", ("Subscription Offer Type",))
_PRICING = (
    Field("preserved_pricing", ("Preserved Pricing",)),
    Field("proceeds_reason", ("Proceeds Reason",)),
    Field("client", ("Client",)),
    Field("device", ("Device",)),
)
_MONEY = (
    Field("customer_price", ("Customer Price",), "numeric"),
    Field("customer_currency", ("Customer Currency",)),
    Field("developer_proceeds", ("Developer Proceeds",), "numeric"),
    Field("proceeds_currency", ("Proceeds Currency", "Currency of Proceeds")),
)


def _count(target: str, *headers: str, required: bool = False) -> Field:
    return Field(target, headers, "numeric", required=required)


SUBSCRIPTION_LAYOUT = Layout(
    name="SUBSCRIPTION/SUMMARY",
    fields=(
        *_APP_AND_SUBSCRIPTION,
        _OFFER_NAME,
        _OFFER_TYPE,
        _PROMOTIONAL_OFFER_ID,
        *_MONEY,
        *_PRICING,
        Field("state", ("State",)),
        Field("country", ("Country",)),
        _count("active_standard", "Active Standard Price Subscriptions", required=True),
        _count(
            "free_trial_introductory",
            "Active Free Trial Introductory Offer Subscriptions",
            "Active Free Trials",
        ),
        _count(
            "pay_up_front_introductory",
            "Active Pay Up Front Introductory Offer Subscriptions",
            "Active Pay Up Front",
        ),
        _count(
            "pay_as_you_go_introductory",
            "Active Pay As You Go Introductory Offer Subscriptions",
            "Active Pay as You Go Introductory Offer Subscriptions",
            "Active Pay As You Go",
        ),
        _count("free_trial_promotional", "Free Trial Promotional Offer Subscriptions"),
        _count("pay_up_front_promotional", "Pay Up Front Promotional Offer Subscriptions"),
        _count("pay_as_you_go_promotional", "Pay As You Go Promotional Offer Subscriptions"),
        _count("free_trial_offer_code", "Free Trial Offer Code Subscriptions"),
        _count("pay_up_front_offer_code", "Pay Up Front Offer Code Subscriptions"),
        _count("pay_as_you_go_offer_code", "Pay As You Go Offer Code Subscriptions"),
        _count("free_trial_win_back", "Free Trial Win-back Offers", "Free Trial Win-Back Offers"),
        _count(
            "pay_up_front_win_back", "Pay Up Front Win-back Offers", "Pay Up Front Win-Back Offers"
        ),
        _count(
            "pay_as_you_go_win_back",
            "Pay As You Go Win-back Offers",
            "Pay As You Go Win-Back Offers",
        ),
        _count("marketing_opt_ins", "Marketing Opt-Ins"),
        _count("billing_retry", "Billing Retry"),
        _count("grace_period", "Grace Period"),
        _count("subscribers", "Subscribers"),
    ),
)

SUBSCRIPTION_EVENT_LAYOUT = Layout(
    name="SUBSCRIPTION_EVENT/SUMMARY",
    fields=(
        Field("event_date", ("Event Date",), "date_iso", required=True),
        Field("event", ("Event",), required=True),
        *_APP_AND_SUBSCRIPTION,
        _OFFER_TYPE,
        Field("offer_duration", ("Subscription Offer Duration",)),
        Field("marketing_opt_in", ("Marketing Opt-In",)),
        Field("marketing_opt_in_duration", ("Marketing Opt-In Duration",)),
        _OFFER_NAME,
        _PROMOTIONAL_OFFER_ID,
        *_PRICING,
        Field("consecutive_paid_periods", ("Consecutive Paid Periods",), "numeric"),
        Field("original_start_date", ("Original Start Date",), "date_iso"),
        Field("state", ("State",)),
        Field("country", ("Country",)),
        Field("previous_subscription_name", ("Previous Subscription Name",)),
        Field("previous_subscription_apple_id", ("Previous Subscription Apple ID",)),
        Field("days_before_canceling", ("Days Before Canceling",), "numeric"),
        Field("cancellation_reason", ("Cancellation Reason",)),
        Field("days_canceled", ("Days Canceled",), "numeric"),
        Field("quantity", ("Quantity",), "numeric", required=True),
        Field("paid_service_days_recovered", ("Paid Service Days Recovered",), "numeric"),
    ),
)

SUBSCRIBER_LAYOUT = Layout(
    name="SUBSCRIBER/DETAILED",
    fields=(
        Field("event_date", ("Event Date",), "date_iso", required=True),
        *_APP_AND_SUBSCRIPTION,
        _OFFER_NAME,
        _PROMOTIONAL_OFFER_ID,
        _OFFER_TYPE,
        Field("offer_duration", ("Subscription Offer Duration",)),
        Field("marketing_opt_in_duration", ("Marketing Opt-In Duration",)),
        *_MONEY,
        *_PRICING,
        Field("country", ("Country",)),
        Field("subscriber_id", ("Subscriber ID",)),
        Field("subscriber_id_reset", ("Subscriber ID Reset",), "bool_yes"),
        Field("refund", ("Refund",), "bool_yes"),
        Field("purchase_date", ("Purchase Date",), "date_iso"),
        Field("units", ("Units",), "numeric"),
    ),
)


# The two reports below are not in FACTS §5. Layouts: Apple, App Store Connect Help,
# reference/subscription-offer-redemption-report (version 1_0: "Date, App Name, App Apple ID,
# Subscription Name, Subscription Apple ID, Offer Reference Name, Offer Code, Territory,
# Redemptions"; the Offer Code is blank for one-time-use codes) and
# reference/win-back-eligibility-report ("App Name, App Apple ID, Subscription Name,
# Subscription Apple ID, Subscription Group ID, Standard Subscription Duration, Paid
# Subscription Tenure, Time Since Last Subscribed, Has Previously Redeemed Win-Back Offer, Time
# Since Last Win-Back Offer, Territory, Churned Subscription Count"; months rounded down; rows
# only for 5 or more). Unconfirmed: the format of ``Date`` (ISO like the other subscription
# reports, or MM/DD/YYYY — both read), extra columns (kept in ``extra``), a leading ``Date`` in
# the win-back file (kept in ``extra``). Parsed by header name.
OFFER_CODE_REDEMPTION_LAYOUT = Layout(
    name="SUBSCRIPTION_OFFER_CODE_REDEMPTION",
    fields=(
        Field("event_date", ("Date",), "date_any"),
        Field("app_name", ("App Name",)),
        Field("app_apple_id", ("App Apple ID",)),
        Field("subscription_name", ("Subscription Name",)),
        Field("subscription_apple_id", ("Subscription Apple ID",)),
        Field("offer_reference_name", ("Offer Reference Name",)),
        Field("offer_code", ("Offer Code",)),
        Field("territory", ("Territory", "Country")),
        Field("redemptions", ("Redemptions",), "numeric", required=True),
    ),
)
WIN_BACK_ELIGIBILITY_LAYOUT = Layout(
    name="WIN_BACK_ELIGIBILITY",
    fields=(
        Field("app_name", ("App Name",)),
        Field("app_apple_id", ("App Apple ID",)),
        Field("subscription_name", ("Subscription Name",)),
        Field("subscription_apple_id", ("Subscription Apple ID",)),
        Field("subscription_group_id", ("Subscription Group ID",)),
        Field("standard_duration", ("Standard Subscription Duration",)),
        Field("paid_tenure_months", ("Paid Subscription Tenure",), "numeric"),
        Field("months_since_subscribed", ("Time Since Last Subscribed",), "numeric"),
        Field("redeemed_win_back", ("Has Previously Redeemed Win-Back Offer",), "bool_yes"),
        Field("months_since_win_back", ("Time Since Last Win-Back Offer",), "numeric"),
        Field("territory", ("Territory", "Country")),
        Field("churned_count", ("Churned Subscription Count",), "numeric", required=True),
    ),
)
