"""Every ORM model, one module per aggregate (keeps the domains free of import cycles).

Importing this package registers all tables on `coinslot.db.Base.metadata`.
"""

from __future__ import annotations

from coinslot.db import Base
from coinslot.models.admin_audit import AdminAudit
from coinslot.models.admin_session import AdminLoginAttempts, AdminSession
from coinslot.models.alert import Alert
from coinslot.models.api_key import ApiKey
from coinslot.models.auto_topup import AUTO_TOPUP_OPEN_STATUSES, AutoTopup, AutoTopupSetting
from coinslot.models.checkout_session import CheckoutSession
from coinslot.models.customer import Customer
from coinslot.models.ledger import CreditBalance, CreditHold, CreditLot, CreditMovement, LedgerEntry
from coinslot.models.mrr_change import MRR_CHANGE_KINDS, MrrChange
from coinslot.models.order import Order
from coinslot.models.outbox import OutboxMessage
from coinslot.models.overage import OverageReport
from coinslot.models.signed_link import UsedSignedLink
from coinslot.models.subscription import Subscription
from coinslot.models.sync_cursor import SyncCursor
from coinslot.models.test_clock import StripeTestClock
from coinslot.models.webhook_event import WebhookAttempt, WebhookEvent

__all__ = [
    "AUTO_TOPUP_OPEN_STATUSES",
    "MRR_CHANGE_KINDS",
    "AdminAudit",
    "AdminLoginAttempts",
    "AdminSession",
    "Alert",
    "ApiKey",
    "AutoTopup",
    "AutoTopupSetting",
    "Base",
    "CheckoutSession",
    "CreditBalance",
    "CreditHold",
    "CreditLot",
    "CreditMovement",
    "Customer",
    "LedgerEntry",
    "MrrChange",
    "Order",
    "OutboxMessage",
    "OverageReport",
    "StripeTestClock",
    "Subscription",
    "SyncCursor",
    "UsedSignedLink",
    "WebhookAttempt",
    "WebhookEvent",
]
