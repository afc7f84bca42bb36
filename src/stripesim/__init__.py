"""stripesim: a stateful emulator of Stripe's HTTP API (versions 2026-11-18.endive,
2026-10-28.endive (the default), 2026-08-26.dahlia and 2024-04-10: see `stripesim.versions`).

Run it: `stripesim serve --port 12111` (see `stripesim.cli`), or in process:
`app = stripesim.create_app(state_file=None, webhook_url=..., webhook_secret=...)`.
It never imports coinslot.

Module map: what may import what
================================
A module imports only from the rows below its own; on one row, modules separated by `|`
do not import one another, those separated by `:` may. `lint-imports` checks it
(pyproject.toml), and that there is no import circle anywhere in stripesim, imports inside
functions and under TYPE_CHECKING included (tests/stripesim/test_import_graph.py names a
circle module by module)::

    __main__
    cli
    app                 the server; it finds the modules below by walking the package at
                        start-up (see "Adding a resource module") and imports none of them
    hosted | fixtures | control
                        pages Stripe would host | an existing account to import | /_sim/
    resources/          the API: one module per Stripe resource (the Events API included)
    clock               test clocks advancing, the real-time ticker: runs billing's schedule
    billing/            the engine: every rule a handler, a page or the clock shares
                        (customers, payment methods, refunds, invoices, subscriptions,
                        payments, Checkout); its own map is in billing/__init__.py
    search              `search` for the /search endpoints
    pagination          `paginate`, `list_object`, `filter_created`
    routing             Router, Call
    events              emit, muted, previous_attributes
    sim                 Sim: store, faults, idempotency, the webhook dispatcher
    webhooks            signed delivery with retries
    versions : version_shapes : conditional_fields : expand
                        rendering: API versions, expand[]
    webhook_endpoint | idempotency | faults | params | shapes | cards | money |
    payment_method_types | hosted_urls
                        small pieces (the endpoint object, the hosted pages' address, ...)
    store
    timeutil | errors

When two modules need each other, move what both need into a lower module named for what
it holds (billing/subscription_end, billing/customers, resources/product_objects,
hosted_urls are such moves), or let the lower one call a hook the upper one registers at
import time or in `setup(sim)` (`billing.payment.SUCCESS_HOOKS`, `sim.on_reset`). Never
import inside a function to dodge a circle: the checks count that import all the same.

Internal API (for resource and engine modules)
==============================================

Adding a resource module
    Create `src/stripesim/resources/<name>.py` with a module-level
    `router = Router()`. The app discovers it at start-up (every module of
    `stripesim` and of its subpackages, e.g. resources/, billing/, hosted/);
    nothing to register by hand. A module may also define

    * `control_router = Router()`: routes under `/_sim/...` (no Stripe auth;
      body may be JSON or form) - e.g. `/_sim/checkout/{id}/complete`;
    * `asgi_routes = [starlette.routing.Route(...)]`: raw Starlette routes
      (hosted HTML pages);
    * `setup(sim: Sim) -> None`: called once per app (append reset hooks to
      `sim.on_reset`, start threads and register what stops them in
      `sim.on_close`, so `Sim.close()` leaves no thread behind).

Routes and handlers  (stripesim.routing)
    ::

        from stripesim.routing import Call, Router
        router = Router()

        @router.post("/v1/customers/{id}")        # also .get / .delete
        def update_customer(call: Call) -> dict[str, Any]:
            customer = call.store.require("customer", call.path_params["id"])
            ...
            return customer                        # or (status, body)

    Handlers are synchronous and run holding `call.store.lock` (one global
    re-entrant lock), so they just read and mutate dicts. A literal segment
    beats a placeholder (`/v1/customers/search` vs `/{id}`). Routes that
    must wait on other threads declare `locked=False` and take the lock
    themselves. The app renders the returned dict: drops private keys
    (those starting with "_"), applies `expand[]`, JSON-encodes it; the
    answer is saved for idempotent replays.

    `call.params` is the decoded form body / query string: nested dicts,
    lists for `a[]`/`a[0]`, all leaf values are strings. `call.path`,
    `call.method`, `call.request_id` (req_...), `call.idempotency_key`,
    `call.headers`, `call.sim` (the `Sim`: store, faults, dispatcher).

Parameters  (stripesim.params)
    `require(params, "currency")` -> 400 parameter_missing;
    `get_int(params, "unit_amount", minimum=0)`, `get_bool`, `get_str(...,
    choices=(...))`, `get_dict`, `get_list` -> 400 parameter_invalid naming
    the param (pass `param="recurring[interval]"` for nested names);
    `merge_metadata(old, params.get("metadata"))` (merge, `k=""` unsets,
    `metadata=""` clears); `reject_unknown(params, {...})` -> 400
    "Received unknown parameter: x".

Errors  (stripesim.errors)
    Raise, anywhere inside a handler: `ParameterMissing(param)`,
    `ParameterInvalid(param, message)`, `ResourceMissing(noun, id,
    param="id")` (404 "No such customer: 'cus_x'"), `InvalidRequestError(msg,
    code=..., param=..., http_status=...)`, `CardError(msg, code=
    "card_declined", decline_code="generic_decline", param=...,
    extra={"payment_intent": {...}})` (402), `RateLimitError(msg, code=...)`
    (429; test-clock "advancement underway"), `ConflictError` (409),
    `APIError` (500). `store.require()` raises ResourceMissing for you.

Objects and the store  (stripesim.store)
    Objects are JSON-able dicts with "id" and "object"; expandable fields
    hold ids. Keys starting with "_" are private emulator state (persisted,
    never rendered, never in events).

    * `new_id("cus")` -> "cus_<24 base62>" (also used for req_, evt_, ...).
    * `store.insert(obj)`, `store.get(type, id)`, `store.require(type, id,
      param="customer")`, `store.find(id)` (any type), `store.all(type)`
      (oldest first), `store.delete(type, id)`.
    * Update by mutating the stored dict in place, then `store.touch()` so
      the state file (if any) is rewritten after the request.
    * `store.kv`: a free JSON-able dict for engine state (schedules, indexes);
      persisted and cleared by reset. Prefer namespaced keys ("billing.*").
    * State kept outside the store (webhook queue, idempotency keys) joins the
      state file through `store.parts[name] = dump_fn` and comes back from
      `store.loaded_parts[name]` at start-up.
    * Outside a request (threads, clock work) wrap work in `with store.lock:`.

"Now" and test clocks  (stripesim.store, stripesim.timeutil)
    * `timeutil.now()` / `store.now()`: real time, int unix seconds, for
      objects not on a test clock (and for events' `created`).
    * `store.now_for(customer_id)`: the frozen_time of the customer's test
      clock (customer["test_clock"] -> object type "test_helpers.test_clock",
      field "frozen_time"), else real time. `store.now_for_clock(clock_id)`
      likewise. THE HOOK: clock.py only has to store clock objects of type
      "test_helpers.test_clock" with an int "frozen_time"; every resource
      that stamps times for a customer uses `now_for`. Customers accept and
      store `test_clock` on create.

Events  (stripesim.events)
    * `call.emit("customer.created", obj)` inside a handler (request id and
      idempotency key are filled in).
    * `call.emit_update("customer.updated", obj, before)` where `before =
      copy.deepcopy(obj)` taken before mutating: computes
      `data.previous_attributes` (changed keys only; nested hashes partial,
      lists/metadata whole) and emits nothing if nothing changed.
    * `events.emit(sim, type, obj, previous_attributes=None, request=None)`
      for automatic events (clock advance): request id is null.
    * `events.previous_attributes(before, after)` if you need the diff.
    The event stores a public deep copy of `obj` at that moment and queues one
    delivery per enabled webhook endpoint whose enabled_events match. The
    Events API (`GET /v1/events`) is `resources/events.py`.

Expand  (stripesim.expand)
    Automatic for any field holding an id of a stored object, at any depth
    (`expand[]=data.customer`, `latest_invoice.payment_intent`, max 4 levels).
    Fields that appear only when expanded: `register_expander("customer",
    "subscriptions", fn(store, obj) -> value)` at import time.

    A dotted field names one inside a nested hash (`register_expander(
    "checkout.session", "total_details.breakdown", fn)`); `since=` the API
    version that introduced it (older versions refuse it). Conditional fields
    an object may lack (a payment method's other types) are declared with
    `register_optional` (stripesim.conditional_fields): expanding them while
    absent does nothing, as on Stripe.

API versions  (stripesim.versions, stripesim.version_shapes)
    Objects are stored in the newest shape (2026-11-18.endive). The app
    renders every answer, expansion and webhook in the version asked for
    (`Stripe-Version`, an endpoint's `api_version`, else `sim.api_version`)
    with `versions.render`, which applies, per object type, the steps that
    `version_shapes` registers for each older version (`_step(V2024,
    "invoice")`). A new resource that looks different in an older version
    adds its step there; a field an older version lacks is dropped there.
    Handlers that accept version-dependent parameters read `call.api_version`.

Lists and search  (stripesim.pagination, stripesim.search)
    * `paginate(call, items, url="/v1/customers", noun="customer")`: items
      oldest first (as `store.all` gives them); newest-first page by
      `limit`/`starting_after`/`ending_before`; `{object: "list", data,
      has_more, url}`. `filter_created(items, call.params)`,
      `filter_range(items, "field", spec, "param")`.
    * `list_object(data, url, has_more)` for nested lists (subscription
      `items`, invoice `lines`).
    * `search(call, items, fields={"email", "metadata", ...})` -> `{object:
      "search_result", data, has_more, next_page, url}`.

Test cards  (stripesim.cards)
    `card_behaviour(pm, off_session=False)` -> `Charge(outcome="succeed"|
    "decline"|"requires_action", code, decline_code, message)` for a stored
    payment_method dict (`.hard`: a decline Smart Retries never retries);
    `decline_error(behaviour)` builds the CardError. Money shown to people:
    `stripesim.money.format_minor(1999, "usd")` -> "$19.99".

Hosted pages  (stripesim.hosted)
    Jinja2 templates in `hosted/templates/`, one stylesheet and script in
    `hosted/static/` (served at `/assets/...`; no external assets);
    `hosted.render.page("pay.html", status, **context)`. A page shows what
    the stored objects say: the Checkout summary reads the session's line
    items, `total_details` (discount, tax, shipping rows), `discounts`,
    `mode` ("Save card" for setup) and `allow_promotion_codes` (the code
    field), so new engine features appear there without template changes.

Helpers other resources reuse
    `billing.customers.live_customer(store, id, param="customer")` (404 for
    missing or deleted customers) and `create_customer(ctx, params)`;
    `billing.payment_methods.resolve_payment_method(store, id_or_pm_card_alias)`
    and `attach_payment_method(ctx, pm_id, customer)`; `billing.refunds.
    create_refund(ctx, params)`; `resources.prices.create_price(call, params)`;
    `resources.product_objects.create_product(call, params)`;
    `resources.subscription_item_changes.item_ops(call, sub, items)` (the rules
    of `items[]`); `billing.balance.adjust_balance(ctx, customer, amount,
    kind=...)` (the only way to move `customer.balance`: it writes the
    customer balance transaction); `billing.discounts.resolve(...)` /
    `redeem(...)` / `find_active_code(store, code)` (coupons and promotion
    codes); `billing.metering.usage(store, meter, customer_id, start, end)`;
    `hosted_urls.base_url(store)` (where the hosted pages live, for `url`
    fields); `events.muted(sim)` (objects made inside send no event: fixtures
    of history). A handler wanting a `Ctx` makes one: `Ctx(call.sim, call)`.

Webhooks and control  (stripesim.webhooks, stripesim.control)
    Delivery is automatic. Tests: `POST /_sim/flush` waits until every queued
    delivery is done (retries compressed). `sim.dispatcher.flush()` in process.
    Every control route is listed in docs/stripesim.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The account's default API version unless `create_app(api_version=...)` says otherwise.
from .versions import DEFAULT as API_VERSION

__all__ = ["API_VERSION", "create_app"]

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(*args: Any, **kwargs: Any) -> Starlette:
    """Build the ASGI app (see `stripesim.app.create_app`)."""
    from .app import create_app as build

    return build(*args, **kwargs)
