"""/v1/credit_notes: create, preview (and its lines), retrieve, update, list, lines, void.

The arithmetic and effects are in `billing.credit_notes`; this module parses
the request into a `NoteSpec` (lines crediting an invoice line by quantity or
amount, or custom lines) and checks it against the invoice.
"""

from __future__ import annotations

from typing import Any

from ..billing.context import Ctx, ensure_writable
from ..billing.credit_notes import NoteSpec, draft_note, issue, void_note
from ..errors import InvalidRequestError, ParameterInvalid
from ..pagination import filter_created, paginate
from ..params import get_int, get_list, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..store import new_id

__all__ = ["router"]

router = Router()
NOUN = "credit_note"
_PARAMS = {"invoice", "amount", "lines", "refund_amount", "credit_amount", "out_of_band_amount",
           "reason", "memo", "metadata", "email_type", "effective_at"}
_REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


def _invoice(call: Call) -> dict[str, Any]:
    invoice = call.store.require("invoice", require(call.params, "invoice"), param="invoice")
    if invoice.get("deleted"):
        raise InvalidRequestError(f"No such invoice: '{invoice['id']}'", code="resource_missing",
                                  param="invoice", http_status=404)
    return invoice


def _credit_line(invoice: dict[str, Any], raw: dict[str, Any], param: str,
                 already: dict[str, int]) -> dict[str, Any]:
    line_id = require(raw, "invoice_line_item") if raw.get("invoice_line_item") else require(
        {}, f"{param}[invoice_line_item]")
    line = next((li for li in invoice["lines"]["data"] if li["id"] == line_id), None)
    if line is None:
        raise InvalidRequestError(f"The invoice has no line item {line_id}.",
                                  param=f"{param}[invoice_line_item]")
    if ("quantity" in raw) == ("amount" in raw):
        raise InvalidRequestError("Pass exactly one of `quantity` and `amount` for an "
                                  "`invoice_line_item` line.", param=param)
    left = int(line["amount"]) - already.get(line_id, 0)
    if "quantity" in raw:
        quantity = get_int(raw, "quantity", minimum=1, maximum=int(line["quantity"] or 0),
                           param=f"{param}[quantity]") or 0
        unit = int(line["amount"]) // max(1, int(line["quantity"] or 1))
        amount = unit * quantity
    else:
        amount = get_int(raw, "amount", minimum=1, param=f"{param}[amount]") or 0
        quantity, unit = 1, amount
    if amount > left:
        raise InvalidRequestError(f"The line can be credited by at most {left}.",
                                  param=f"{param}[amount]")
    already[line_id] = already.get(line_id, 0) + amount
    return _line(amount, quantity, unit, line.get("description"), "invoice_line_item", line_id,
                 raw, param)


def _line(amount: int, quantity: int, unit: int, description: str | None, kind: str,
          line_id: str | None, raw: dict[str, Any], param: str) -> dict[str, Any]:
    return {"id": new_id("cnli"), "object": "credit_note_line_item", "amount": amount,
            "description": description, "discount_amount": 0, "discount_amounts": [],
            "invoice_line_item": line_id, "livemode": False,
            "metadata": merge_metadata({}, raw.get("metadata"), param=f"{param}[metadata]"),
            "pretax_credit_amounts": [], "quantity": quantity, "tax_rates": [], "taxes": [],
            "type": kind, "unit_amount": unit, "unit_amount_decimal": str(unit)}


def _lines(invoice: dict[str, Any], raw_lines: list[Any]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    already: dict[str, int] = {}
    for index, raw in enumerate(raw_lines):
        param = f"lines[{index}]"
        if not isinstance(raw, dict):
            raise ParameterInvalid(param, f"Invalid hash: {param}")
        kind = get_str(raw, "type", choices=("invoice_line_item", "custom_line_item"),
                       param=f"{param}[type]")
        if kind is None:
            require({}, f"{param}[type]")
        if kind == "invoice_line_item":
            lines.append(_credit_line(invoice, raw, param, already))
            continue
        unit = get_int(raw, "unit_amount", minimum=1, param=f"{param}[unit_amount]")
        if unit is None:
            require({}, f"{param}[unit_amount]")
        quantity = get_int(raw, "quantity", 1, minimum=1, param=f"{param}[quantity]") or 1
        description = get_str(raw, "description") or require({}, f"{param}[description]")
        lines.append(_line(int(unit or 0) * quantity, quantity, int(unit or 0), description,
                           "custom_line_item", None, raw, param))
    return lines


def _spec(call: Call, invoice: dict[str, Any]) -> NoteSpec:
    params = call.params
    reject_unknown(params, _PARAMS)
    get_str(params, "email_type", choices=("credit_note", "none"))
    if params.get("effective_at"):
        raise ParameterInvalid("effective_at", "stripesim issues credit notes effective now; "
                                               "`effective_at` is not emulated.")
    return NoteSpec(
        lines=_lines(invoice, get_list(params, "lines") or []),
        amount=get_int(params, "amount", minimum=1),
        refund_amount=get_int(params, "refund_amount", 0, minimum=0) or 0,
        credit_amount=get_int(params, "credit_amount", 0, minimum=0) or 0,
        out_of_band_amount=get_int(params, "out_of_band_amount", minimum=0),
        reason=get_str(params, "reason", choices=_REASONS),
        memo=get_str(params, "memo") or None,
        metadata=merge_metadata({}, params.get("metadata")))


@router.post("/v1/credit_notes")
def create(call: Call) -> dict[str, Any]:
    invoice = _invoice(call)
    ensure_writable(call.store, invoice["customer"])
    spec = _spec(call, invoice)
    ctx = Ctx(call.sim, call)
    note = draft_note(ctx, invoice, spec, call.store.now_for(invoice["customer"]))
    issue(ctx, note, invoice, spec)
    return note


def _preview(call: Call) -> dict[str, Any]:
    invoice = _invoice(call)
    spec = _spec(call, invoice)
    return draft_note(Ctx(call.sim, call), invoice, spec, call.store.now_for(invoice["customer"]))


@router.get("/v1/credit_notes/preview")
def preview(call: Call) -> dict[str, Any]:
    return _preview(call)


@router.get("/v1/credit_notes/preview/lines")
def preview_lines(call: Call) -> dict[str, Any]:
    paging: dict[str, Any] = {k: call.params.pop(k) for k in ("limit", "starting_after",
                                                              "ending_before")
                              if k in call.params}
    note = _preview(call)
    call.params.update(paging)
    return paginate(call, list(reversed(note["lines"]["data"])),
                    url="/v1/credit_notes/preview/lines", noun="credit_note_line_item")


def _note(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.get("/v1/credit_notes/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _note(call)


@router.post("/v1/credit_notes/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"memo", "metadata"})
    note = _note(call)
    before = {"memo": note["memo"], "metadata": dict(note["metadata"])}
    if "memo" in call.params:
        note["memo"] = get_str(call.params, "memo") or None
    note["metadata"] = merge_metadata(note["metadata"], call.params.get("metadata"))
    call.store.touch()
    changed = {k: v for k, v in before.items() if note[k] != v}
    if changed:
        call.emit("credit_note.updated", note, changed)
    return note


@router.post("/v1/credit_notes/{id}/void")
def void(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, set())
    note = _note(call)
    ensure_writable(call.store, note["customer"])
    void_note(Ctx(call.sim, call), note, call.store.now_for(note["customer"]))
    return note


@router.get("/v1/credit_notes/{id}/lines")
def lines(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before"})
    note = _note(call)
    return paginate(call, list(reversed(note["lines"]["data"])),
                    url=f"/v1/credit_notes/{note['id']}/lines", noun="credit_note_line_item")


@router.get("/v1/credit_notes")
def list_notes(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer",
                            "invoice", "customer_account"})
    items = call.store.all(NOUN)
    for key in ("customer", "invoice"):
        value = get_str(params, key)
        if value:
            items = [n for n in items if n[key] == value]
    return paginate(call, filter_created(items, params), url="/v1/credit_notes", noun=NOUN)
