"""The rows of the SUBSCRIPTION, SUBSCRIPTION_EVENT and SUBSCRIBER files of one group and day.

* ``SUBSCRIPTION`` (FACTS §5.3) — the snapshot at the end of the day, no date column; one row
  per subscription, country, device, price point and offer; ``Subscribers`` is filled only for
  rows of more than three subscriptions.
* ``SUBSCRIPTION_EVENT`` (FACTS §5.4) — events aggregated over every column (``Quantity``);
  the file of day D holds events of D, D-1 and D-2 (FACTS §8).
* ``SUBSCRIBER`` (FACTS §5.5) — one row per transaction of the same events (charges and
  refunds; free trial starts have no transaction). Refund rows: negative ``Customer Price``
  (the refunded amount, full or prorated), positive ``Developer Proceeds``, ``Refund`` =
  ``Yes``, ``Purchase Date`` = the refunded charge's day, ``Units`` per the ``refund_units``
  knob (``0`` as in the sample, or ``-1``).
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from app.sandbox.markets import quantum
from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.calendar import iso
from app.sandbox.subscription_world.cells import OFFER_PRICED, RETAINED, B, Cells
from app.sandbox.subscription_world.ledger import CHARGE, REFUND_ROW, Happening
from app.sandbox.subscription_world.products import Offer
from app.sandbox.subscription_world.world import GroupWorld, Renewal, RowKey

SUBSCRIPTION_HEADER: tuple[str, ...] = (
    "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "State",
    "Country", *m.STATE_COLUMNS, "Subscribers",
)  # fmt: skip
# 1_3 order: Device before Client (the 1_2 sample has them the other way round).
EVENT_HEADER: tuple[str, ...] = (
    "Event Date", "Event", "App Name", "App Apple ID", "Subscription Name",
    "Subscription Apple ID", "Subscription Group ID", "Standard Subscription Duration",
    "Subscription Offer Type", "Subscription Offer Duration", "Marketing Opt-In",
    "Marketing Opt-In Duration", "Preserved Pricing", "Proceeds Reason",
    "Subscription Offer Name", "Promotional Offer ID", "Consecutive Paid Periods",
    "Original Start Date", "Device", "Client", "State", "Country", "Previous Subscription Name",
    "Previous Subscription Apple ID", "Days Before Canceling", "Cancellation Reason",
    "Days Canceled", "Quantity", "Paid Service Days Recovered",
)  # fmt: skip
SUBSCRIBER_HEADER: tuple[str, ...] = (
    "Event Date", "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Subscription Offer Type", "Subscription Offer Duration",
    "Marketing Opt-In Duration", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "Country",
    "Subscriber ID", "Subscriber ID Reset", "Refund", "Purchase Date", "Units",
)  # fmt: skip
_EVENT_KEY = tuple(name for name in EVENT_HEADER if name != "Quantity")
_REASONS = {m.CANCEL: m.CANCELED, m.CANCEL_GRACE: m.CANCELED, m.CANCEL_RETRY: m.BILLING_ISSUE}


# --- SUBSCRIPTION --------------------------------------------------------------------------
def snapshot_rows(world: GroupWorld, day: int) -> list[dict[str, str]]:
    per_row: dict[RowKey, list[int]] = {}
    for code, count in world.snapshot(day).items():
        key, state = world.decode(code)
        per_row.setdefault(key, [0] * m.STATE_COUNT)[state] += count
    cells = Cells(world)
    return [_snapshot_row(cells, key, per_row[key]) for key in sorted(per_row)]


def _snapshot_row(cells: Cells, key: RowKey, counts: list[int]) -> dict[str, str]:
    country = cells.group.countries[key.country]
    offer = cells.offer(key.offer)
    price = cells.price(key.product, key.offer, key.country)
    active = sum(counts[state] for state in m.ACTIVE_STATES)
    row = dict(cells.products[key.product])
    row.update(
        {
            "Subscription Offer Name": cells.offer_name(offer),
            "Promotional Offer ID": cells.promotional_id(offer),
            "Customer Price": cells.amount(price, country),
            "Customer Currency": country.currency,
            "Developer Proceeds": cells.amount(
                cells.proceeds(price, country, key.retained), country
            ),
            "Proceeds Currency": country.currency,
            "Preserved Pricing": "",
            "Proceeds Reason": RETAINED if key.retained else "",
            "Client": "",
            "Device": cells.devices[key.device],
            "State": B,
            "Country": country.alpha2,
            "Subscribers": str(active) if active > 3 else "",
        }
    )
    row.update(zip(m.STATE_COLUMNS, map(str, counts), strict=True))
    return row


# --- SUBSCRIPTION_EVENT --------------------------------------------------------------------
def event_cells(cells: Cells, h: Happening) -> dict[str, str]:
    customer = cells.world.customers[h.customer]
    offer = cells.offer(h.offer)
    charged = h.charge == CHARGE
    previous = cells.products[h.previous] if h.previous >= 0 else None
    row = _common_event_cells(cells, h.day, h.event, h.product, h.customer)
    row.update(
        {
            "Subscription Offer Type": cells.offer_type(offer),
            "Subscription Offer Duration": cells.offer_duration(offer),
            "Proceeds Reason": RETAINED if charged and h.retained else "",
            "Subscription Offer Name": cells.offer_name(offer),
            "Promotional Offer ID": cells.promotional_id(offer),
            "Consecutive Paid Periods": str(h.cpp),
            "Original Start Date": iso(customer.original_start),
            "Previous Subscription Name": previous["Subscription Name"] if previous else "",
            "Previous Subscription Apple ID": previous["Subscription Apple ID"] if previous else B,
            "Days Before Canceling": str(h.number) if h.event == m.CANCEL and h.number >= 0 else B,
            "Cancellation Reason": _REASONS.get(h.event, B),
            "Days Canceled": str(h.number) if h.event in m.REACTIVATIONS else B,
            "Paid Service Days Recovered": (
                str(h.number) if h.event == m.RECOVER and h.number >= 0 else B
            ),
        }
    )
    return row


def renewal_cells(cells: Cells, renewal: Renewal) -> dict[str, str]:
    run = renewal.run
    customer = cells.world.customers[run.customer]
    offer = cells.offer(run.offer)
    row = _common_event_cells(cells, renewal.day, m.RENEW, run.product, run.customer)
    row.update(
        {
            "Subscription Offer Type": cells.offer_type(offer),
            "Subscription Offer Duration": cells.offer_duration(offer),
            "Proceeds Reason": RETAINED if run.retained else "",
            "Subscription Offer Name": cells.offer_name(offer),
            "Promotional Offer ID": cells.promotional_id(offer),
            "Consecutive Paid Periods": str(renewal.cpp),
            "Original Start Date": iso(customer.original_start),
            "Previous Subscription Name": "",
            "Previous Subscription Apple ID": B,
            "Days Before Canceling": B,
            "Cancellation Reason": B,
            "Days Canceled": B,
            "Paid Service Days Recovered": B,
        }
    )
    return row


def _common_event_cells(
    cells: Cells, day: int, event: int, product: int, customer: int
) -> dict[str, str]:
    row = dict(cells.products[product])
    row.update(
        {
            "Event Date": iso(day),
            "Event": m.EVENT_NAMES[event],
            "Marketing Opt-In": "Yes" if cells.world.customers[customer].opt_in else "",
            "Marketing Opt-In Duration": B,
            "Preserved Pricing": "",
            "Device": cells.devices[cells.world.customers[customer].device],
            "Client": "",
            "State": B,
            "Country": cells.country(customer).alpha2,
        }
    )
    return row


def event_rows(world: GroupWorld, file_day: int) -> list[dict[str, str]]:
    """Events of the file of ``file_day``, aggregated over every column."""
    cells = Cells(world)
    counts: Counter[tuple[str, ...]] = Counter()
    for h in world.file_happenings(file_day):
        row = event_cells(cells, h)
        counts[tuple(row[name] for name in _EVENT_KEY)] += 1
    for renewal in world.file_renewals(file_day):
        row = renewal_cells(cells, renewal)
        counts[tuple(row[name] for name in _EVENT_KEY)] += 1
    rows = []
    for key in sorted(counts):
        row = dict(zip(_EVENT_KEY, key, strict=True))
        row["Quantity"] = str(counts[key])
        rows.append(row)
    return rows


# --- SUBSCRIBER ----------------------------------------------------------------------------
def subscriber_rows(world: GroupWorld, file_day: int) -> list[dict[str, str]]:
    """One row per transaction (charge or refund) of the file of ``file_day``."""
    cells = Cells(world)
    negative = world.options.refund_units == "negative"
    rows = [
        transaction_row(cells, h, negative)
        for h in world.file_happenings(file_day)
        if h.charge != 0
    ]
    rows += [renewal_row(cells, renewal) for renewal in world.file_renewals(file_day)]
    return rows


def transaction_row(cells: Cells, h: Happening, negative_units: bool = False) -> dict[str, str]:
    customer = cells.world.customers[h.customer]
    country = cells.group.countries[customer.country]
    refund = h.charge == REFUND_ROW
    offer = h.offer if h.event in OFFER_PRICED or refund else -1
    price = cells.price(h.product, offer, customer.country)
    if refund:
        price = (price * h.share / 100).quantize(quantum(country.currency), ROUND_HALF_UP)
    shown = cells.offer(offer)
    row = _transaction_cells(cells, h.day, h.product, h.customer, h.epoch, shown, h.retained)
    row.update(
        {
            "Customer Price": cells.amount(-price if refund else price, country),
            "Developer Proceeds": cells.amount(cells.proceeds(price, country, h.retained), country),
            "Subscriber ID Reset": "Yes" if h.reset else "",
            "Refund": "Yes" if refund else "",
            "Purchase Date": iso(h.purchase) if refund else "",
            "Units": ("-1" if negative_units else "0") if refund else "1",
        }
    )
    return row


def renewal_row(cells: Cells, renewal: Renewal) -> dict[str, str]:
    run = renewal.run
    country = cells.country(run.customer)
    price = cells.price(run.product, run.offer, cells.world.customers[run.customer].country)
    offer = cells.offer(run.offer)
    row = _transaction_cells(
        cells, renewal.day, run.product, run.customer, run.epoch, offer, run.retained
    )
    row.update(
        {
            "Customer Price": cells.amount(price, country),
            "Developer Proceeds": cells.amount(
                cells.proceeds(price, country, run.retained), country
            ),
            "Subscriber ID Reset": "",
            "Refund": "",
            "Purchase Date": "",
            "Units": "1",
        }
    )
    return row


def _transaction_cells(
    cells: Cells,
    day: int,
    product: int,
    customer: int,
    epoch: int,
    offer: Offer | None,
    retained: bool,
) -> dict[str, str]:
    country = cells.country(customer)
    row = dict(cells.products[product])
    row.update(
        {
            "Event Date": iso(day),
            "Subscription Offer Name": cells.offer_name(offer) if offer else "",
            "Promotional Offer ID": cells.promotional_id(offer) if offer else "",
            "Subscription Offer Type": cells.offer_type(offer),
            "Subscription Offer Duration": cells.offer_duration(offer),
            "Marketing Opt-In Duration": "",
            "Customer Currency": country.currency,
            "Proceeds Currency": country.currency,
            "Preserved Pricing": B,
            "Proceeds Reason": RETAINED if retained else B,
            "Client": B,
            "Device": cells.devices[cells.world.customers[customer].device],
            "Country": country.alpha2,
            "Subscriber ID": cells.world.subscriber_id(customer, epoch),
        }
    )
    return row


def refund_amount(cells: Cells, h: Happening) -> tuple[Decimal, Decimal]:
    """(refunded customer amount, refunded proceeds) of a refund happening, both positive."""
    customer = cells.world.customers[h.customer]
    country = cells.group.countries[customer.country]
    price = cells.price(h.product, h.offer, customer.country)
    amount = (price * h.share / 100).quantize(quantum(country.currency), ROUND_HALF_UP)
    return amount, cells.proceeds(amount, country, h.retained)
