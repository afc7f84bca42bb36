"""/v1/products: CRUD, list, search (and `default_price_data` on create)."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import InvalidRequestError, ParameterInvalid
from ..pagination import filter_created, paginate
from ..params import get_bool, get_dict, get_list, reject_unknown
from ..routing import Call, Router
from ..search import search
from ..store import Store
from .prices import create_price
from .product_objects import NOUN, apply_fields, create_product

__all__ = ["router"]

router = Router()
_COMMON = {"active", "description", "images", "marketing_features", "metadata", "name",
           "package_dimensions", "shippable", "statement_descriptor", "tax_code", "unit_label", "url"}
_CREATE = _COMMON | {"id", "default_price_data", "type", "tax_details"}
_UPDATE = _COMMON | {"default_price", "tax_details"}


@router.post("/v1/products")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, _CREATE)
    price_data = get_dict(params, "default_price_data")
    product = create_product(call, {k: v for k, v in params.items() if k != "default_price_data"})
    if price_data:
        price = create_price(call, {**price_data, "product": product["id"]},
                             param_prefix="default_price_data")
        before = copy.deepcopy(product)
        product["default_price"] = price["id"]
        call.emit_update("product.updated", product, before)
    return product


@router.get("/v1/products/search")
def search_products(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"query", "limit", "page"})
    return search(call, call.store.all(NOUN),
                  fields={"active", "created", "description", "metadata", "name", "shippable", "url"},
                  url="/v1/products/search")


@router.get("/v1/products/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/products/{id}")
def update(call: Call) -> dict[str, Any]:
    store = call.store
    product = store.require(NOUN, call.path_params["id"])
    params = call.params
    reject_unknown(params, _UPDATE)
    before = copy.deepcopy(product)
    try:
        apply_fields(store, product, params)
        if "default_price" in params:
            product["default_price"] = _default_price(store, product, params["default_price"])
    except Exception:
        product.clear()
        product.update(before)
        raise
    if product != before:
        product["updated"] = store.now()
    store.touch()
    call.emit_update("product.updated", product, before)
    return product


def _default_price(store: Store, product: dict[str, Any], value: Any) -> str | None:
    if not value:
        return None
    price = store.require("price", value, param="default_price", noun="price")
    if price["product"] != product["id"]:
        raise ParameterInvalid("default_price",
                               f"The price {value} does not belong to product {product['id']}.")
    return str(value)


@router.delete("/v1/products/{id}")
def delete(call: Call) -> dict[str, Any]:
    product = call.store.require(NOUN, call.path_params["id"])
    if any(p["product"] == product["id"] for p in call.store.all("price")):
        raise InvalidRequestError(
            "This product cannot be deleted because it has one or more user-created prices.",
            code="resource_in_use")
    call.store.delete(NOUN, product["id"])
    call.emit("product.deleted", product)
    return {"id": product["id"], "object": NOUN, "deleted": True}


@router.get("/v1/products")
def list_products(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "active",
                            "ids", "shippable", "url"})
    items = filter_created(call.store.all(NOUN), params)
    active = get_bool(params, "active")
    if active is not None:
        items = [p for p in items if p["active"] == active]
    shippable = get_bool(params, "shippable")
    if shippable is not None:
        items = [p for p in items if p["shippable"] == shippable]
    ids = get_list(params, "ids")
    if ids:
        items = [p for p in items if p["id"] in ids]
    if params.get("url"):
        items = [p for p in items if p["url"] == params["url"]]
    return paginate(call, items, url="/v1/products", noun=NOUN)
