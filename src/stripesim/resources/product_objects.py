"""A product from parameters: creating one, and the fields create and update share.

Below both `products` (/v1/products, whose `default_price_data` makes a price) and `prices`
(whose `product_data` makes a product); fixtures create products here too.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError, ParameterInvalid
from ..params import get_bool, get_dict, get_list, get_str, merge_metadata, require
from ..routing import Call
from ..store import Store, new_id

__all__ = ["NOUN", "apply_fields", "create_product"]

NOUN = "product"


def create_product(call: Call, params: dict[str, Any], *, param_prefix: str = "") -> dict[str, Any]:
    """Create, store and announce a product (`param_prefix`: where nested params sit, e.g.
    a price's `product_data[`)."""
    store = call.store
    name = require(params, "name") if not param_prefix else _nested_name(params, param_prefix)
    product_id = get_str(params, "id") or new_id("prod", 14)
    if store.get(NOUN, product_id) is not None:
        raise InvalidRequestError(f"Product already exists: {product_id}",
                                  code="resource_already_exists", param=f"{param_prefix}id")
    now = store.now()
    product: dict[str, Any] = {
        "id": product_id, "object": "product", "active": True, "created": now,
        "default_price": None, "description": None, "images": [], "livemode": False,
        "marketing_features": [], "metadata": {}, "name": name, "package_dimensions": None,
        "shippable": None, "statement_descriptor": None, "tax_code": None,
        "type": "service", "unit_label": None, "updated": now, "url": None,
    }
    apply_fields(store, product, params, param_prefix)
    store.insert(product)
    call.emit("product.created", product)
    return product


def _nested_name(params: dict[str, Any], prefix: str) -> str:
    if not params.get("name"):
        raise ParameterInvalid(f"{prefix}name", f"Missing required param: {prefix}name.",
                               code="parameter_missing")
    return str(params["name"])


def apply_fields(store: Store, product: dict[str, Any], params: dict[str, Any],
                 prefix: str = "") -> None:
    """Set the fields create and update share."""
    for field in ("description", "statement_descriptor", "tax_code", "unit_label", "url"):
        if field in params:
            product[field] = get_str(params, field, param=prefix + field) or None
    if "name" in params:
        product["name"] = require(params, "name")
    for flag in ("active", "shippable"):
        if flag in params:
            product[flag] = get_bool(params, flag, param=prefix + flag)
    if "images" in params:
        product["images"] = [str(i) for i in get_list(params, "images") or []]
    if "marketing_features" in params:
        features = get_list(params, "marketing_features") or []
        product["marketing_features"] = [{"name": f.get("name")} for f in features
                                         if isinstance(f, dict)]
    if "package_dimensions" in params:
        dims = get_dict(params, "package_dimensions")
        product["package_dimensions"] = (
            {k: float(dims[k]) for k in ("height", "length", "weight", "width") if k in dims}
            if dims else None)
    product["metadata"] = merge_metadata(product["metadata"], params.get("metadata"),
                                         param=prefix + "metadata")
