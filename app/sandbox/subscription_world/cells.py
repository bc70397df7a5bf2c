"""Cell values shared by the subscription-family files: product, offer, price and place cells."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property

from app.sandbox.markets import Country, format_amount
from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.products import (
    CODE,
    FREE_TRIAL,
    PAY_AS_YOU_GO,
    PAY_UP_FRONT,
    PROMO,
    Offer,
    developer_proceeds,
    offer_price,
    standard_price,
)
from app.sandbox.subscription_world.world import GroupWorld

B = " "  # Apple writes many empty cells as a single space (FACTS §5)
RETAINED = "Rate After One Year"
OFFER_TYPES = {
    FREE_TRIAL: "Free Trial",
    PAY_AS_YOU_GO: "Pay as you go",
    PAY_UP_FRONT: "Pay up front",
}
#: Events whose charge is at the offer's price (the others are at the standard price).
OFFER_PRICED = frozenset((m.START_INTRO, m.START_CODE, *m.REACTIVATIONS))


class Cells:
    """Cached cell values of one group world."""

    def __init__(self, world: GroupWorld) -> None:
        self.world = world
        self.group = world.group
        self.devices = [name for name, _ in world.options.behaviour.devices]
        self._prices: dict[tuple[int, int, int], Decimal] = {}

    @cached_property
    def products(self) -> list[dict[str, str]]:
        app, group = self.group.app, self.group
        return [
            {
                "App Name": app.name,
                "App Apple ID": app.id,
                "Subscription Name": p.name,
                "Subscription Apple ID": p.apple_id,
                "Subscription Group ID": group.group_id,
                "Standard Subscription Duration": p.duration.label,
            }
            for p in group.products
        ]

    def country(self, customer: int) -> Country:
        return self.group.countries[self.world.customers[customer].country]

    def offer(self, index: int) -> Offer | None:
        return self.group.offers[index] if index >= 0 else None

    @staticmethod
    def offer_type(offer: Offer | None) -> str:
        return OFFER_TYPES[offer.mode] if offer is not None else ""

    @staticmethod
    def offer_duration(offer: Offer | None) -> str:
        return offer.duration.label if offer is not None else ""

    @staticmethod
    def offer_name(offer: Offer | None) -> str:
        return offer.name if offer is not None and offer.family in (PROMO, CODE) else B

    @staticmethod
    def promotional_id(offer: Offer | None) -> str:
        return offer.identifier if offer is not None and offer.family == PROMO else B

    def price(self, product: int, offer: int, country: int) -> Decimal:
        """Customer price of one charge: the offer's price when charged at it, else standard."""
        key = (product, offer, country)
        if key not in self._prices:
            place = self.group.countries[country]
            o = self.offer(offer)
            if o is not None and o.mode != FREE_TRIAL:
                self._prices[key] = offer_price(self.group, o, place)
            else:
                usd = self.group.products[product].usd
                self._prices[key] = standard_price(usd, place.currency)
        return self._prices[key]

    @staticmethod
    def amount(value: Decimal, country: Country) -> str:
        return format_amount(value, country.currency)

    @staticmethod
    def proceeds(value: Decimal, country: Country, retained: bool) -> Decimal:
        return developer_proceeds(value, country, retained)
