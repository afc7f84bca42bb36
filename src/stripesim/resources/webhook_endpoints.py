"""/v1/webhook_endpoints: where events are delivered. The secret shows only on create."""

from __future__ import annotations

from typing import Any

from ..errors import ParameterInvalid
from ..pagination import paginate
from ..params import get_bool, get_list, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..versions import check_version
from ..webhook_endpoint import create_endpoint

router = Router()
NOUN = "webhook_endpoint"


def _events_param(params: dict[str, Any]) -> list[str]:
    events = get_list(params, "enabled_events")
    if not events:
        raise ParameterInvalid("enabled_events", "Missing required param: enabled_events.",
                               code="parameter_missing")
    return [str(e) for e in events]


def _url_param(params: dict[str, Any]) -> str:
    url = str(require(params, "url"))
    if not url.startswith(("http://", "https://")):
        raise ParameterInvalid("url", "Invalid URL: must start with http:// or https://.")
    return url


def _api_version(params: dict[str, Any]) -> str | None:
    """An endpoint may pin the version its events are rendered in; unknown ones are refused."""
    version = get_str(params, "api_version")
    return check_version(version, param="api_version") if version else None


@router.post("/v1/webhook_endpoints")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"url", "enabled_events", "description", "metadata",
                            "api_version", "connect"})
    endpoint = create_endpoint(
        call.store, url=_url_param(params), enabled_events=_events_param(params),
        description=get_str(params, "description"),
        metadata=merge_metadata({}, params.get("metadata")),
        api_version=_api_version(params))
    return {**endpoint, "secret": endpoint["_secret"]}


@router.get("/v1/webhook_endpoints/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/webhook_endpoints/{id}")
def update(call: Call) -> dict[str, Any]:
    endpoint = call.store.require(NOUN, call.path_params["id"])
    params = call.params
    reject_unknown(params, {"url", "enabled_events", "description", "metadata", "disabled"})
    # Validate everything first so that a refused update changes nothing.
    changes: dict[str, Any] = {
        "metadata": merge_metadata(endpoint["metadata"], params.get("metadata"))}
    if "url" in params:
        changes["url"] = _url_param(params)
    if "enabled_events" in params:
        changes["enabled_events"] = _events_param(params)
    if "description" in params:
        changes["description"] = get_str(params, "description") or None
    disabled = get_bool(params, "disabled")
    if disabled is not None:
        changes["status"] = "disabled" if disabled else "enabled"
    endpoint.update(changes)
    call.store.touch()
    return endpoint


@router.delete("/v1/webhook_endpoints/{id}")
def delete(call: Call) -> dict[str, Any]:
    endpoint = call.store.require(NOUN, call.path_params["id"])
    call.store.delete(NOUN, endpoint["id"])
    return {"id": endpoint["id"], "object": NOUN, "deleted": True}


@router.get("/v1/webhook_endpoints")
def list_endpoints(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before"})
    return paginate(call, call.store.all(NOUN), url="/v1/webhook_endpoints", noun=NOUN)
