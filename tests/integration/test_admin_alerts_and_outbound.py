"""The operator acknowledges alerts and replays dead webhooks to the host (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from coinslot.alerts import service as alerts
from coinslot.db import Database
from coinslot.errors import NotFound
from coinslot.models import AdminAudit, Alert, OutboxMessage
from coinslot.outbound import service as outbound
from tests.support.console_client import csrf_of, signed_in_console

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)


@pytest.fixture
def admin(db: Database) -> TestClient:
    """A client signed in to the console."""
    return signed_in_console(db, now=NOW, session_secret="alerts-secret-alerts-secret-alerts")



def nav_count(html: str) -> str | None:
    found = re.search(r'Alerts <span class="count" data-nav-count>(\d+)', html)
    return found.group(1) if found else None


def raise_alerts(db: Database, *codes: str) -> list[int]:
    with db.unit_of_work() as session:
        raised = [alerts.record(session, code=code, message=f"{code} happened", now=NOW) for code in codes]
        session.flush()
        return [alert.id for alert in raised]


def audit_actions(db: Database) -> list[tuple[str, str | None]]:
    with db.unit_of_work(read_only=True) as session:
        rows = session.scalars(select(AdminAudit).order_by(AdminAudit.id)).all()
        return [(row.action, row.target) for row in rows]


# --- alerts -------------------------------------------------------------------------------------


def test_acknowledging_an_alert_is_idempotent_and_unknown_ones_are_not_found(db: Database) -> None:
    [alert_id] = raise_alerts(db, "refund.unmapped")
    with db.unit_of_work() as session:
        assert alerts.count_open(session) == 1
        first = alerts.acknowledge(session, alert_id=alert_id, actor="admin@test", now=NOW)
        assert first.acknowledged_at == NOW
    with db.unit_of_work() as session:
        again = alerts.acknowledge(session, alert_id=alert_id, actor="admin@other", now=LATER)
        assert again.acknowledged_at == NOW  # the first acknowledgement stands
        assert alerts.count_open(session) == 0
        assert [a.id for a in alerts.list_alerts(session, state="acknowledged")] == [alert_id]
        assert alerts.list_alerts(session, state="open") == []
        for unknown in (alert_id + 1, 0, 2**70):
            with pytest.raises(NotFound):
                alerts.acknowledge(session, alert_id=unknown, actor="admin@test", now=NOW)


def test_an_operator_acknowledges_alerts_from_the_console(admin: TestClient, db: Database) -> None:
    first, second = raise_alerts(db, "webhook.dead", "refund.unmapped")
    page = admin.get("/admin/alerts")
    assert nav_count(page.text) == "2"
    assert nav_count(admin.get("/admin").text) == "2"  # every console page shows the count
    assert page.text.count(">Acknowledge</button>") == 2

    forged = admin.post(f"/admin/alerts/{first}/acknowledge", data={"csrf_token": "forged"},
                        follow_redirects=False)
    assert forged.status_code == 403
    done = admin.post(f"/admin/alerts/{first}/acknowledge",
                      data={"csrf_token": csrf_of(page.text), "state": "open"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/alerts?state=open&done=acknowledged"

    open_page = admin.get(done.headers["location"])
    assert "Alert acknowledged." in open_page.text
    assert nav_count(open_page.text) == "1"
    assert f'data-alert="{second}"' in open_page.text
    assert f'data-alert="{first}"' not in open_page.text
    acknowledged = admin.get("/admin/alerts?state=acknowledged")
    assert f'data-alert="{first}"' in acknowledged.text
    assert f'data-alert="{second}"' not in acknowledged.text
    assert ">Acknowledge</button>" not in acknowledged.text
    assert admin.get("/admin/alerts?state=bogus").status_code == 422

    # Twice (a double submit, a second tab) is fine; an unknown alert is a 404 page.
    again = admin.post(f"/admin/alerts/{first}/acknowledge", data={"csrf_token": csrf_of(page.text)},
                       follow_redirects=False)
    assert again.headers["location"] == "/admin/alerts?done=acknowledged"
    missing = admin.post("/admin/alerts/999999/acknowledge", data={"csrf_token": csrf_of(page.text)})
    assert missing.status_code == 404
    assert admin.post(f"/admin/alerts/{2**70}/acknowledge", data={"csrf_token": csrf_of(page.text)}
                      ).status_code == 422

    assert [target for action, target in audit_actions(db) if action == "acknowledge_alert"] == [
        f"alert:{first}", f"alert:{first}"]
    with db.unit_of_work(read_only=True) as session:
        acks = {a.id: a.acknowledged_at for a in session.scalars(select(Alert))}
    assert acks == {first: NOW, second: None}
    assert nav_count(admin.post(f"/admin/alerts/{second}/acknowledge", data={
        "csrf_token": csrf_of(page.text)}).text) is None  # nothing open: no count


# --- outbound webhooks ----------------------------------------------------------------------------


def queue(db: Database, event_type: str, status: str, **fields: object) -> tuple[int, str]:
    with db.unit_of_work() as session:
        message = outbound.enqueue(session, event_type=event_type, payload={"host_user_id": "u1",
                                                                           "available_credits": 4}, now=NOW)
        message.status = status
        for name, value in fields.items():
            setattr(message, name, value)
        session.flush()
        return message.id, message.webhook_id


def test_the_console_lists_outbound_webhooks_and_replays_a_dead_one(admin: TestClient, db: Database) -> None:
    dead_id, dead_webhook = queue(db, "credits.low", "dead", attempts=14, last_status_code=500,
                                  last_error="HTTP 500: boom", next_attempt_at=None)
    delivered_id, _ = queue(db, "order.paid", "delivered", attempts=1, last_status_code=200, delivered_at=NOW)
    pending_id, _ = queue(db, "credits.exhausted", "pending")

    listing = admin.get("/admin/outbound")
    assert listing.status_code == 200
    assert 'aria-current="page">Outbound<' in listing.text
    rows = {int(m): row for m, row in re.findall(r'<a href="/admin/outbound/(\d+)">\d+</a>(.*?)</tr>',
                                                     listing.text, re.S)}
    assert set(rows) == {dead_id, delivered_id, pending_id}
    assert ">dead<" in rows[dead_id]
    assert ">500<" in rows[dead_id]
    assert ">Replay</button>" in rows[dead_id]
    assert ">delivered<" in rows[delivered_id]
    assert "Replay" not in rows[delivered_id]
    assert "15 Nov 2026 12:00 UTC" in rows[pending_id]
    assert "Replay" not in rows[pending_id]
    assert "No host webhook URL is set" in listing.text

    only_dead = admin.get("/admin/outbound?status=dead&type=credits.low")
    assert f"/admin/outbound/{dead_id}" in only_dead.text
    assert f"/admin/outbound/{delivered_id}" not in only_dead.text
    assert "dead (1)" in only_dead.text

    detail = admin.get(f"/admin/outbound/{dead_webhook}")  # by webhook id (alerts link so) or by number
    assert detail.status_code == 200
    assert admin.get(f"/admin/outbound/{dead_id}").text == detail.text
    assert '&#34;available_credits&#34;: 4' in detail.text  # the payload, pretty-printed
    assert "HTTP 500: boom" in detail.text
    for unknown in ("999999", "msg_nope", str(2**70), "²", "drop table"):
        assert admin.get(f"/admin/outbound/{unknown}").status_code == 404, unknown

    forged = admin.post(f"/admin/outbound/{dead_id}/replay", data={"csrf_token": "x"})
    assert forged.status_code == 403
    replayed = admin.post(f"/admin/outbound/{dead_id}/replay", data={"csrf_token": csrf_of(listing.text)},
                          follow_redirects=False)
    assert replayed.headers["location"] == f"/admin/outbound/{dead_id}?done=replayed"
    assert "Replay queued" in admin.get(replayed.headers["location"]).text
    with db.unit_of_work(read_only=True) as session:
        row = session.get(OutboxMessage, dead_id)
        assert row is not None
        state = (row.status, row.attempts, row.next_attempt_at, row.webhook_id)
        assert state == ("pending", 0, NOW, dead_webhook)
    assert ("replay_outbound", f"outbound:{dead_webhook}") in audit_actions(db)
    assert admin.post("/admin/outbound/msg_nope/replay", data={"csrf_token": csrf_of(listing.text)}
                      ).status_code == 404


def test_an_outbound_dead_alert_links_to_its_message(admin: TestClient, db: Database) -> None:
    _, webhook_id = queue(db, "credits.low", "dead")
    with db.unit_of_work() as session:
        alerts.record(session, code="outbound.dead", message="dead", now=NOW,
                      subject_type="outbox_message", subject_id=webhook_id)
    page = admin.get("/admin/alerts")
    assert f'href="/admin/outbound/{webhook_id}"' in page.text
    assert admin.get(f"/admin/outbound/{webhook_id}").status_code == 200
