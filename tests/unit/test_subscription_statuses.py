"""One vocabulary of subscription statuses: Stripe's list, and every rule that reads it covers it all."""

from __future__ import annotations

import inspect
import re

import stripe

from coinslot.subscriptions import statuses
from coinslot.subscriptions.core import ACCESS_BY_STATUS, Access


def test_the_statuses_are_stripes_and_the_access_table_covers_each() -> None:
    # The pinned SDK's annotation of Subscription.status (read as text: its other hints need imports).
    source = inspect.getsource(stripe.Subscription)
    annotation = re.search(r"\n    status: Union\[\s*Literal\[(.*?)\]", source, re.S)
    assert annotation is not None
    stripe_statuses = set(re.findall(r'"(\w+)"', annotation.group(1)))
    assert stripe_statuses == statuses.STATUSES
    assert set(ACCESS_BY_STATUS) == statuses.STATUSES


def test_serving_subscriptions_are_live_and_grant_their_plan_at_least_in_grace() -> None:
    assert statuses.SERVING <= statuses.LIVE
    granting = {status for status, access in ACCESS_BY_STATUS.items() if access is not Access.FREE}
    assert granting == statuses.SERVING
    assert statuses.is_serving("past_due")
    assert not statuses.is_serving("incomplete")
    assert statuses.is_live("incomplete")
    assert not statuses.is_live("canceled")
