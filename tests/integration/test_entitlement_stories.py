"""The example customers' stories at the service level, on SQLite and PostgreSQL.

Patch-Hive: CORE grants 25 credits, an export costs 3, the 9th export is refused
(402 "need 3, have 1"), 25 credits bought at the $5 minimum, STUDIO exports
without counting. QuantiPackAI: token costs scaled by complexity, the free
month granted once, a monthly reset at renewal, purchased tokens kept across it.
(The same stories end to end against stripesim live in tests/e2e.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog
from coinslot.catalog.parser import load_catalog
from coinslot.db import Database
from coinslot.entitlements import service as entitlements
from coinslot.errors import Conflict, FeatureNotAllowed, InsufficientCredits, InvalidInput
from coinslot.ledger import service as ledger
from coinslot.models import Subscription
from tests.integration.ledger_support import DAY, NOW, add_customer, assert_verified

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
PATCH_HIVE = load_catalog(EXAMPLES / "patch_hive.toml")
QUANTIPACK = load_catalog(EXAMPLES / "quantipackai.toml")
PERIOD_END = NOW + 30 * DAY


def subscribe(
    session: Session,
    host_user_id: str,
    plan_key: str,
    *,
    status: str = "active",
    start: dt.datetime = NOW,
    end: dt.datetime = PERIOD_END,
    past_due_since: dt.datetime | None = None,
) -> int:
    """A user with a mirrored subscription (what the webhook pipeline leaves behind)."""
    customer_id = add_customer(session, host_user_id)
    session.add(
        Subscription(
            customer_id=customer_id,
            stripe_subscription_id=f"sub_{host_user_id}",
            status=status,
            plan_key=plan_key,
            interval="month",
            current_period_start=start,
            current_period_end=end,
            past_due_since=past_due_since,
            snapshot_at_ms=0,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    session.flush()
    return customer_id


def pay_period(
    session: Session,
    customer_id: int,
    catalog: Catalog,
    plan_key: str,
    invoice: str,
    *,
    start: dt.datetime = NOW,
    end: dt.datetime = PERIOD_END,
    now: dt.datetime = NOW,
) -> None:
    """What `invoice.paid` does for the period: the plan's credits, once per invoice."""
    plan = catalog.plans[plan_key]
    ledger.grant_period(
        session,
        customer_id=customer_id,
        entry_id=f"invoice:{invoice}",
        credits=plan.credits_per_period,
        period_start=start,
        period_end=end,
        rollover_cap=plan.rollover_cap,
        unlimited=plan.unlimited,
        now=now,
        source=f"subscription:{_subscription_of(session, customer_id)}",
    )


def _subscription_of(session: Session, customer_id: int) -> str:
    found = session.scalar(
        select(Subscription.stripe_subscription_id).where(Subscription.customer_id == customer_id)
    )
    assert found is not None
    return found


def consume(
    db: Database,
    catalog: Catalog,
    user: str,
    feature: str,
    key: str,
    *,
    now: dt.datetime = NOW,
    **params: str,
) -> entitlements.Consumed:
    with db.unit_of_work() as session:
        return entitlements.consume(
            session,
            host_user_id=user,
            feature=feature,
            idempotency_key=key,
            catalog=catalog,
            now=now,
            params=params,
        )


def check(
    db: Database, catalog: Catalog, user: str, feature: str, *, now: dt.datetime = NOW, **params: str
) -> entitlements.Decision:
    with db.unit_of_work(read_only=True) as session:
        return entitlements.check(
            session, host_user_id=user, feature=feature, catalog=catalog, now=now, params=params
        )


def test_patch_hive_core_exports_eight_times_then_is_refused_then_buys_credits(db: Database) -> None:
    with db.unit_of_work() as session:
        maya = subscribe(session, "maya", "core")
        pay_period(session, maya, PATCH_HIVE, "core", "in_core_nov")
    assert check(db, PATCH_HIVE, "maya", "export") == entitlements.Decision(True, 3, 22, "ok", "core")
    for number in range(8):
        used = consume(db, PATCH_HIVE, "maya", "export", f"export-{number}")
    assert used.decision.remaining == 1
    with pytest.raises(InsufficientCredits, match="insufficient credits: need 3, have 1") as refused:
        consume(db, PATCH_HIVE, "maya", "export", "export-9")
    assert refused.value.http_status == 402
    assert check(db, PATCH_HIVE, "maya", "export").reason == "insufficient_credits"

    with db.unit_of_work() as session:  # 25 credits at $0.20 = the $5 minimum
        ledger.credit(
            session,
            customer_id=maya,
            entry_id="checkout:cs_25",
            kind="purchase",
            credits=25,
            now=NOW,
            source="checkout:cs_25",
        )
    assert consume(db, PATCH_HIVE, "maya", "export", "export-9").decision.remaining == 23
    assert_verified(db)


def test_patch_hive_studio_exports_without_limit_and_usage_is_recorded(db: Database) -> None:
    with db.unit_of_work() as session:
        sam = subscribe(session, "sam", "studio")
        pay_period(session, sam, PATCH_HIVE, "studio", "in_studio_nov")
    for number in range(30):
        used = consume(db, PATCH_HIVE, "sam", "export", f"export-{number}")
        assert (used.decision.allowed, used.decision.reason, used.decision.remaining) == (
            True,
            "unlimited",
            None,
        )
    with db.unit_of_work(read_only=True) as session:
        assert ledger.balance(session, customer_id=sam, now=NOW).available_credits == 0
        usage = ledger.history(session, customer_id=sam, months=1, now=NOW)
    assert [(row.feature, row.uses, row.credits) for row in usage] == [("export", 30, 90)]
    assert_verified(db)


def test_patch_hive_free_users_cannot_export_and_lapsed_subscribers_are_told_why(db: Database) -> None:
    with pytest.raises(FeatureNotAllowed) as refused:
        consume(db, PATCH_HIVE, "newcomer", "export", "e-1")
    assert (refused.value.code, refused.value.http_status) == ("feature_not_in_plan", 402)
    with db.unit_of_work() as session:
        subscribe(session, "late", "core", status="past_due", past_due_since=NOW - 10 * DAY)
    assert check(db, PATCH_HIVE, "late", "export").reason == "past_due_grace_over"
    with db.unit_of_work() as session:
        subscribe(session, "recent", "core", status="past_due", past_due_since=NOW - DAY)
    assert check(db, PATCH_HIVE, "recent", "export").reason == "insufficient_credits"  # plan kept in grace


def test_a_retried_consume_is_charged_once_and_a_reused_key_is_a_conflict(db: Database) -> None:
    with db.unit_of_work() as session:
        maya = subscribe(session, "maya", "core")
        pay_period(session, maya, PATCH_HIVE, "core", "in_core_nov")
    first = consume(db, PATCH_HIVE, "maya", "export", "request-1")
    again = consume(db, PATCH_HIVE, "maya", "export", "request-1")
    assert (again.entry.entry_id, again.entry.balance_after, again.entry.replayed) == (
        first.entry.entry_id,
        22,
        True,
    )
    assert again.decision.remaining == 22
    with pytest.raises(Conflict):
        consume(db, PATCH_HIVE, "maya", "patchbook", "request-1")


def hold(
    db: Database, catalog: Catalog, user: str, feature: str, key: str, *, now: dt.datetime = NOW,
    timeout_s: int = 600, credits: int | None = None,
) -> entitlements.Consumed:
    with db.unit_of_work() as session:
        return entitlements.hold(session, host_user_id=user, feature=feature, idempotency_key=key,
                                 timeout_s=timeout_s, catalog=catalog, now=now, credits=credits)


def test_a_retried_hold_a_second_later_is_the_same_hold_even_when_it_took_the_last_credits(
    db: Database,
) -> None:
    with db.unit_of_work() as session:
        maya = subscribe(session, "maya", "core")
        pay_period(session, maya, PATCH_HIVE, "core", "in_core_nov")
    for number in range(7):  # 25 - 21 = 4 left
        consume(db, PATCH_HIVE, "maya", "export", f"export-{number}")
    first = hold(db, PATCH_HIVE, "maya", "export", "job-1")  # 1 left: too few for a fresh export hold
    second_later = NOW + dt.timedelta(seconds=1)
    again = hold(db, PATCH_HIVE, "maya", "export", "job-1", now=second_later)
    assert (again.entry.entry_id, again.entry.hold_id, again.entry.replayed) == (
        first.entry.entry_id,
        first.entry.hold_id,
        True,
    )
    assert (again.decision.cost, again.decision.remaining) == (3, 1)
    estimated = hold(db, PATCH_HIVE, "maya", "export", "job-2", credits=1)
    assert hold(db, PATCH_HIVE, "maya", "export", "job-2", credits=1, now=second_later).entry.replayed
    assert estimated.decision.remaining == 0
    with pytest.raises(Conflict):
        hold(db, PATCH_HIVE, "maya", "patchbook", "job-1", now=second_later)
    with pytest.raises(Conflict):
        hold(db, PATCH_HIVE, "maya", "export", "job-2", credits=2, now=second_later)
    with pytest.raises(Conflict):
        consume(db, PATCH_HIVE, "maya", "export", "job-1")  # a hold's key is not a spend's
    assert_verified(db)


def test_two_users_with_the_same_idempotency_key_are_charged_each_for_their_own(db: Database) -> None:
    with db.unit_of_work() as session:
        for user in ("maya", "noor"):
            customer_id = subscribe(session, user, "core")
            pay_period(session, customer_id, PATCH_HIVE, "core", f"in_core_{user}")
    maya_used = consume(db, PATCH_HIVE, "maya", "export", "export-1")
    noor_used = consume(db, PATCH_HIVE, "noor", "export", "export-1")
    assert noor_used.entry.replayed is False
    assert noor_used.entry.entry_id != maya_used.entry.entry_id
    assert (maya_used.decision.remaining, noor_used.decision.remaining) == (22, 22)
    assert_verified(db)


def test_quantipack_costs_scale_with_complexity_and_round_up(db: Database) -> None:
    with db.unit_of_work() as session:
        ines = subscribe(session, "ines", "starter")
        pay_period(session, ines, QUANTIPACK, "starter", "in_starter_nov")
    assert consume(db, QUANTIPACK, "ines", "spec_generator", "a-1", complexity="high").decision.cost == 15
    assert (
        consume(db, QUANTIPACK, "ines", "suite_analyzer", "a-2", complexity="high").decision.cost == 8
    )  # 7.5
    assert (
        consume(db, QUANTIPACK, "ines", "suite_analyzer", "a-3", complexity="low").decision.cost == 4
    )  # 3.5
    assert check(db, QUANTIPACK, "ines", "suite_analyzer").remaining == 18  # 50 - 15 - 8 - 4 - 5
    with pytest.raises(InvalidInput) as unknown:
        check(db, QUANTIPACK, "ines", "suite_analyzer", complexity="extreme")
    assert unknown.value.field == "params.complexity"
    assert check(db, QUANTIPACK, "ines", "pdp_analyzer").reason == "feature_not_in_plan"


def test_quantipack_free_tokens_are_granted_once_a_month(db: Database) -> None:
    decision = check(db, QUANTIPACK, "lena", "suite_analyzer", complexity="low")
    assert (decision.allowed, decision.cost, decision.remaining) == (
        True,
        4,
        1,
    )  # 5 free tokens, not yet written
    assert consume(db, QUANTIPACK, "lena", "suite_analyzer", "l-1", complexity="low").decision.remaining == 1
    with pytest.raises(InsufficientCredits, match="need 4, have 1"):
        consume(db, QUANTIPACK, "lena", "suite_analyzer", "l-2", complexity="low")
    next_month = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    assert check(db, QUANTIPACK, "lena", "suite_analyzer", now=next_month).remaining == 0  # 5 again, minus 5
    assert consume(db, QUANTIPACK, "lena", "suite_analyzer", "l-3", now=next_month).decision.remaining == 0
    assert_verified(db)


def test_quantipack_tokens_reset_at_renewal_and_purchased_tokens_are_kept(db: Database) -> None:
    with db.unit_of_work() as session:
        ines = subscribe(session, "ines", "starter")
        pay_period(session, ines, QUANTIPACK, "starter", "in_starter_nov")
        pack = QUANTIPACK.packs["tokens_25"]
        assert pack.credits is not None
        assert pack.expires_after_days is not None
        ledger.credit(
            session,
            customer_id=ines,
            entry_id="checkout:cs_tokens",
            kind="purchase",
            credits=pack.credits,
            now=NOW,
            expires_at=NOW + dt.timedelta(days=pack.expires_after_days),
            source="checkout:cs_tokens",
        )
    for number in range(6):  # 6 x 10 = 60: the 50 monthly tokens first, then 10 purchased
        consume(db, QUANTIPACK, "ines", "spec_generator", f"spec-{number}")
    assert check(db, QUANTIPACK, "ines", "suite_analyzer").remaining == 10  # 15 purchased left - 5
    renewal = PERIOD_END + dt.timedelta(minutes=5)
    with db.unit_of_work() as session:
        pay_period(
            session,
            ines,
            QUANTIPACK,
            "starter",
            "in_starter_dec",
            start=PERIOD_END,
            end=PERIOD_END + 31 * DAY,
            now=renewal,
        )
    with db.unit_of_work(read_only=True) as session:
        assert ledger.balance(session, customer_id=ines, now=renewal).available_credits == 65  # 50 + 15 kept
    assert_verified(db)
