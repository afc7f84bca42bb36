"""A host app's webhook endpoint, on loopback: verifies each delivery and answers as told."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coinslot.hostwebhooks import HostWebhookInvalid, verify_host_webhook
from tests.support.servers import ServerThread

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass(frozen=True)
class Received:
    webhook_id: str
    event: dict[str, Any]


class HostReceiver:
    """`with HostReceiver(now_s=...) as host:` then point coinslot at `host.url`.

    `answers` is the queue of statuses to give (200 once it is empty); requests
    that fail verification get 400 and land in `rejected`.
    """

    def __init__(self, *, now_s: Callable[[], float], secret: str = SECRET) -> None:
        self.secret = secret
        self.now_s = now_s
        self.answers: list[int] = []
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/billing-events", self._receive, methods=["POST"])])
        self._server = ServerThread(app)
        self.url = f"{self._server.url}/billing-events"

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            event = verify_host_webhook(request.headers, body, self.secret, now_s=self.now_s())
        except HostWebhookInvalid as exc:
            with self._lock:
                self.rejected.append(str(exc))
            return Response(status_code=400)
        with self._lock:
            self.received.append(Received(request.headers["webhook-id"], event))
            status = self.answers.pop(0) if self.answers else 200
        return Response(status_code=status)

    def __enter__(self) -> HostReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
