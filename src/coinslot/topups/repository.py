"""Every query of auto top-up: a customer's setting, their top-ups, the month's usage against the cap,
and the admin console's lists. (Claiming top-ups to charge is the queue's: `queue.repository`.)"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot.models import AUTO_TOPUP_OPEN_STATUSES, AutoTopup, AutoTopupSetting, Customer

__all__ = [
    "add", "has_open", "month_usage", "recent_topups", "setting", "setting_by_session", "settings_page",
    "topup", "topup_by_payment_intent",
]

# Top-ups that count towards the monthly cap: charged, or still able to be.
_COUNTED = ("pending", "charging", "failed", "succeeded")


def add(session: Session, row: AutoTopup | AutoTopupSetting) -> None:
    session.add(row)
    session.flush()


def setting(session: Session, *, customer_id: int, for_update: bool = False) -> AutoTopupSetting | None:
    query = select(AutoTopupSetting).where(AutoTopupSetting.customer_id == customer_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def setting_by_session(session: Session, *, setup_session_id: str) -> AutoTopupSetting | None:
    query = select(AutoTopupSetting).where(AutoTopupSetting.setup_session_id == setup_session_id)
    return session.scalars(query.with_for_update()).first()


def has_open(session: Session, *, customer_id: int) -> bool:
    query = select(AutoTopup.id).where(AutoTopup.customer_id == customer_id,
                                       AutoTopup.status.in_(AUTO_TOPUP_OPEN_STATUSES))
    return session.scalars(query.limit(1)).first() is not None


def month_usage(session: Session, *, customer_id: int, month: str) -> tuple[int, int]:
    """(top-ups, amount in minor units) of the month that count towards the cap."""
    query = select(func.count(AutoTopup.id), func.coalesce(func.sum(AutoTopup.amount_minor), 0)).where(
        AutoTopup.customer_id == customer_id, AutoTopup.month == month, AutoTopup.status.in_(_COUNTED))
    count, amount = session.execute(query).one()
    return int(count), int(amount)


def topup(session: Session, *, topup_id: int, for_update: bool = False) -> AutoTopup | None:
    if for_update:
        return session.get(AutoTopup, topup_id, with_for_update=True, populate_existing=True)
    return session.get(AutoTopup, topup_id)


def topup_by_payment_intent(session: Session, *, payment_intent_id: str) -> AutoTopup | None:
    query = select(AutoTopup).where(AutoTopup.stripe_payment_intent_id == payment_intent_id)
    return session.scalars(query.with_for_update()).first()


def recent_topups(
    session: Session, *, customer_id: int | None = None, limit: int = 100
) -> Sequence[AutoTopup]:
    """Newest first, of one customer or of everyone."""
    query = select(AutoTopup)
    if customer_id is not None:
        query = query.where(AutoTopup.customer_id == customer_id)
    return session.scalars(query.order_by(AutoTopup.id.desc()).limit(limit)).all()


def settings_page(session: Session, *, limit: int = 200) -> Sequence[tuple[AutoTopupSetting, str]]:
    """Every customer who turned auto top-up on at some time, with their host user id; on first."""
    query = (select(AutoTopupSetting, Customer.host_user_id)
             .join(Customer, Customer.id == AutoTopupSetting.customer_id)
             .where(AutoTopupSetting.consented_at.is_not(None))
             .order_by(AutoTopupSetting.enabled.desc(), AutoTopupSetting.updated_at.desc()).limit(limit))
    return [(row, host_user_id) for row, host_user_id in session.execute(query).all()]
