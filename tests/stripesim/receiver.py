"""A loopback webhook receiver for tests: records each POST, answers scripted statuses."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.servers import ServerThread


@dataclass
class Received:
    body: str
    signature: str
    headers: dict[str, str]


@dataclass
class WebhookReceiver:
    """`receiver.fail_next(2)` makes the next two deliveries answer 500."""

    server: ServerThread | None = None
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/webhooks"

    def start(self) -> WebhookReceiver:
        async def hook(request: Request) -> Response:
            body = (await request.body()).decode("utf-8")
            with self.lock:
                self.received.append(Received(body, request.headers.get("stripe-signature", ""),
                                              dict(request.headers)))
                status = self.statuses.pop(0) if self.statuses else 200
            return Response("ok" if status < 300 else "boom", status_code=status)

        self.server = ServerThread(Starlette(routes=[Route("/webhooks", hook, methods=["POST"])]))
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.statuses.clear()

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.lock:
            self.statuses.extend([status] * count)

    def events(self, secret: str) -> list[stripe.Event]:
        """Every delivery, verified exactly as an integration would verify it."""
        with self.lock:
            received = list(self.received)
        return [stripe.Webhook.construct_event(r.body, r.signature, secret) for r in received]

    def types(self, secret: str) -> list[str]:
        return [event.type for event in self.events(secret)]
