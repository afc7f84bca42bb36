from sqlalchemy import select
from coinslot.models import WebhookEvent, LedgerEntry, Subscription
from tests.e2e.test_checkout_stories import pushed, start, pay
from tests.support.stack import Stack
import httpx


def test_explore(stack: Stack) -> None:
    pushed(stack, "patch_hive")
    started = start(stack, host_user_id="u1", email="u1@example.com", plan="core", interval="month")
    r = pay(stack, started["session_id"])
    print(r.status_code, r.text[:300])
    n = stack.settle()
    print("processed", n)
    with stack.container.db.unit_of_work(read_only=True) as s:
        for e in s.scalars(select(WebhookEvent).order_by(WebhookEvent.id)):
            print(e.stripe_event_id, e.type, e.status, e.last_error)
        for l in s.scalars(select(LedgerEntry)):
            print(l.entry_id, l.kind, l.credits, l.available_delta, l.source)
        for sub in s.scalars(select(Subscription)):
            print(sub.stripe_subscription_id, sub.status, sub.plan_key, sub.current_period_end)
    print(stack.api.get("/v1/customers/u1").json())
    up = stack.api.post("/v1/customers/u1/subscription/change", json={"plan": "pro"})
    print(up.status_code, up.json())
    stack.settle()
    print(stack.api.get("/v1/customers/u1").json())
    with stack.container.db.unit_of_work(read_only=True) as s:
        for e in s.scalars(select(WebhookEvent).order_by(WebhookEvent.id)):
            print(e.stripe_event_id, e.type, e.status, e.last_error)
        for l in s.scalars(select(LedgerEntry)):
            print(l.entry_id, l.kind, l.credits, l.available_delta, l.source)
    p = stack.api.post("/v1/customers/u1/portal", json={"return_url": "http://127.0.0.1:5000/billing", "flow": "subscription_update"})
    print(p.status_code, p.json())
    page = httpx.get(p.json()["url"])
    print(page.text[:3000])
    assert False
