"""What `catalog push` plans to change at Stripe: the actions (`flows.py` and `metered.py` make them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from coinslot.catalog.core import CatalogPrice, OveragePrice
from coinslot.stripe_gateway.catalog import StripePriceData

__all__ = ["ActionKind", "PushAction", "PushPlan"]

ActionKind = Literal["create_product", "update_product", "create_price", "replace_price", "create_meter",
                     "create_metered_price", "replace_metered_price"]


@dataclass(frozen=True, slots=True)
class PushAction:
    kind: ActionKind
    key: str  # product key ("plan:pro"), lookup key, or the meter's event name
    description: str
    price: CatalogPrice | None = None
    product_id: str | None = None  # known for existing products
    replaces: StripePriceData | None = None
    name: str = ""  # products and the meter: display name (and the product's description) to set
    product_description: str = ""
    metered: OveragePrice | None = None  # a plan's overage price (metered.py)


@dataclass(frozen=True, slots=True)
class PushPlan:
    livemode: bool
    actions: list[PushAction]
    pinned: list[str] = field(default_factory=list)  # paths left alone because the file pins their price id
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.actions
