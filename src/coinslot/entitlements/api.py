"""HTTP routes of entitlements (API key): check, consume, and holds for long jobs.

    POST /v1/check                   may the user do it? (200 with allowed=false when not)
    POST /v1/consume                 check and spend atomically; 402 with the reason when refused
    POST /v1/holds                   reserve a job's cost; 402 when refused
    POST /v1/holds/{id}/capture      charge the actual cost
    POST /v1/holds/{id}/release      cancel; the credits go back
    POST /v1/credits/{id}/spend      spend credits with no plan check

Each use that leaves the balance under the auto top-up threshold saves a top-up in its transaction.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from coinslot.api_contract import errors
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.deps import ContainerDep, RowId, require_scope
from coinslot.entitlements import hot_check, service
from coinslot.entitlements.core import Decision
from coinslot.entitlements.schemas import (
    CaptureBody,
    CheckBody,
    ConsumeBody,
    DecisionOut,
    HoldBody,
    HoldOut,
    OverageOut,
    UseOut,
)
from coinslot.ledger import service as ledger_service
from coinslot.ledger.api import entry_out
from coinslot.ledger.schemas import EntryOut, SpendBody

router = APIRouter(prefix="/v1", tags=["entitlements"], dependencies=[Depends(require_scope("entitlements"))])


def _context(container: Container) -> tuple[Catalog, dt.timedelta]:
    grace = dt.timedelta(days=container.settings.past_due_grace_days)
    return catalog_service.get_catalog(container.settings), grace


def decision_out(decision: Decision) -> DecisionOut:
    over = decision.overage
    overage = None if over is None else OverageOut(
        credits=over.credits, cost_minor=over.cost_minor, currency=decision.currency or "",
        period_credits=over.period_credits, period_cost_minor=over.period_cost_minor,
        within_cap=over.within_cap)
    return DecisionOut(allowed=decision.allowed, cost=decision.cost, remaining=decision.remaining,
                       reason=decision.reason, plan=decision.plan_key, overage=overage,
                       seats=decision.seats)


@router.post("/check", response_model=DecisionOut, operation_id="check",
             summary="May the user use a feature?", responses=errors())
async def check(body: CheckBody, container: ContainerDep) -> DecisionOut:
    """Allowed or not, the cost, what is left and why (200 either way). Reads only: safe on every request of
    the host. A user coinslot has not seen yet is answered as a new user on the catalog's default plan.
    Advisory: `consume` decides for real."""
    # On SQLite the check is one read of pages in this process's memory (tens of µs, never waiting on a
    # writer in WAL mode): run on the event loop it costs less than the hop to the threadpool, and many
    # threads each releasing the GIL around a short SQLite call made a request several times dearer at
    # 16 connections (docs/benchmarks.md, check over HTTP). PostgreSQL's read is a network round trip:
    # in the threadpool, so the loop serves other requests meanwhile.
    if container.db.is_sqlite:
        return decide_check(body, container)
    return await run_in_threadpool(decide_check, body, container)


def decide_check(body: CheckBody, container: Container) -> DecisionOut:
    """POST /v1/check's answer (the route's and `check_lane`'s)."""
    catalog, grace = _context(container)
    decision = hot_check.check(container.db, host_user_id=body.host_user_id, feature=body.feature,
                               quantity=body.quantity, params=body.params, catalog=catalog,
                               now=container.clock.now(), grace=grace)
    return decision_out(decision)


def answer_check(body: CheckBody, container: Container) -> bytes:
    """`decide_check`'s answer as the bytes the route sends (`check_lane`): FastAPI serializes a route's
    response model by its JSON dump, by alias."""
    return decide_check(body, container).model_dump_json(by_alias=True).encode()


def check_route() -> APIRoute:
    """The route of POST /v1/check (its metrics and log line name it)."""
    return next(route for route in router.routes if isinstance(route, APIRoute)
                and route.path == "/v1/check" and "POST" in (route.methods or ()))


@router.post("/consume", response_model=UseOut, operation_id="consume",
             summary="Use a feature, spending its credits", responses=errors(402, 409))
def consume(body: ConsumeBody, container: ContainerDep) -> UseOut:
    """Check and spend in one transaction. Refused: 402 whose `code` is the reason, nothing spent. A retry
    with the same `idempotency_key` returns the first answer (`replayed: true`); the same key with another
    feature or cost is a 409. A new user is created on the default plan."""
    catalog, grace = _context(container)
    now = container.clock.now()
    # Group commit: concurrent consumes of this process share one commit (coinslot/group_commit.py).
    used = service.consume_grouped(
        container.writes, host_user_id=body.host_user_id, feature=body.feature,
        idempotency_key=body.idempotency_key, quantity=body.quantity, params=body.params, catalog=catalog,
        now=now, grace=grace, low_balance_pct=container.settings.low_balance_pct,
    )
    return UseOut(**decision_out(used.decision).model_dump(), entry_id=used.entry.entry_id,
                  replayed=used.entry.replayed)


@router.post("/holds", response_model=HoldOut, operation_id="createHold",
             summary="Reserve credits before a long job", responses=errors(402, 409))
def create_hold(body: HoldBody, container: ContainerDep) -> HoldOut:
    """Reserve credits before a long job; capture or release it within `timeout_s`."""
    catalog, grace = _context(container)
    now = container.clock.now()

    def hold(session: Session) -> tuple[service.Consumed, ledger_service.HoldView]:
        held = service.hold(
            session, host_user_id=body.host_user_id, feature=body.feature,
            idempotency_key=body.idempotency_key, timeout_s=body.timeout_s, quantity=body.quantity,
            params=body.params, credits=body.credits, catalog=catalog, now=now, grace=grace,
            low_balance_pct=container.settings.low_balance_pct,
        )
        assert held.entry.hold_id is not None
        return held, ledger_service.get_hold(session, hold_id=held.entry.hold_id, now=now)

    held, pending = container.writes.run(hold)
    return HoldOut(**decision_out(held.decision).model_dump(), entry_id=held.entry.entry_id,
                   replayed=held.entry.replayed, hold_id=pending.hold_id, expires_at=pending.expires_at,
                   status=pending.status)


@router.post("/holds/{hold_id}/capture", response_model=EntryOut, operation_id="captureHold",
             summary="Charge a held job's actual cost", responses=errors(402, 404, 409))
def capture(hold_id: RowId, body: CaptureBody, container: ContainerDep) -> EntryOut:
    """Charge the actual cost. A hold resolves once: a retry returns the same entry, anything else 409."""
    now = container.clock.now()
    catalog, grace = _context(container)
    result = container.writes.run(lambda session: service.capture(
        session, hold_id=hold_id, credits=body.credits, catalog=catalog, now=now, grace=grace,
        low_balance_pct=container.settings.low_balance_pct))
    return entry_out(result)


@router.post("/holds/{hold_id}/release", response_model=EntryOut, operation_id="releaseHold",
             summary="Cancel a hold; its credits go back", responses=errors(404, 409))
def release(hold_id: RowId, container: ContainerDep) -> EntryOut:
    """Cancel a pending hold; its credits go back to where they came from."""
    now = container.clock.now()
    result = container.writes.run(lambda session: service.release(session, hold_id=hold_id, now=now))
    return entry_out(result)


@router.post("/credits/{host_user_id}/spend", response_model=EntryOut, operation_id="spendCredits",
             tags=["credits"], summary="Spend credits without a plan check", responses=errors(402, 404, 409))
def spend(host_user_id: str, body: SpendBody, container: ContainerDep) -> EntryOut:
    """Spend credits directly (no plan check; see `consume`). 402 when short, nothing spent."""
    catalog, grace = _context(container)
    with container.db.unit_of_work() as session:
        result = service.spend(
            session, host_user_id=host_user_id, credits=body.credits, feature=body.feature,
            idempotency_key=body.idempotency_key, catalog=catalog, now=container.clock.now(), grace=grace,
            low_balance_pct=container.settings.low_balance_pct,
        )
    return entry_out(result)
