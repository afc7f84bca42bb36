"""POST /v1/check's common request answered without FastAPI's routing and dependencies; the rest by the route.

The check is the host's hot path: asked before every gated action, often several times per page. Through
the route, a request walks the routers' regular expressions and resolves its dependencies (container,
key, scope, body) anew each time: on SQLite that was most of a check's time in the process, more than
the check itself (docs/benchmarks.md, check over HTTP). This lane, an ASGI middleware inside every other,
answers the request that needs none of it:

  - POST /v1/check, `Content-Type: application/json`, a declared body of at most 8 KiB that parses and
    that `CheckBody` accepts (parsed and validated as FastAPI does: `json.loads`, then the model),
  - an API key this process verified within `api_key_cache_s` (1 s), holding the `entitlements` scope,

by the route's own function (`api.answer_check`) and serializer, so the bytes are the route's. Every other
request (no key, a key not cached, a scope missing, a body refused, another path) and any exception in
the lane go to the route unchanged, body included: its answers, errors and their envelopes stay the only
ones, and a key's first use is verified (and its last use recorded) there. The lane reads only: running a
failed check again in the route changes nothing. `tests/integration/test_check_lane.py` sends the same
requests both ways and compares status, headers and bytes.
"""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coinslot.body_limit import body_max_bytes
from coinslot.container import Container
from coinslot.entitlements.api import answer_check, check_route
from coinslot.entitlements.schemas import CheckBody
from coinslot.errors import CoinslotError

__all__ = ["CheckLane"]

log = logging.getLogger("coinslot.http")

PATH = "/v1/check"
MAX_BODY_BYTES = 8 * 1024  # a check's body is ~100 bytes; a bigger one (params) takes the route
_SCOPE = "entitlements"


class CheckLane:
    """See the module. `container` is the app's (`create_app`)."""

    def __init__(self, app: ASGIApp, *, container: Container) -> None:
        self.app = app
        self.container = container
        self.route = check_route()  # named in the request's metrics and log line, as the route would be
        # Under the route's own limit, so the body limit (outside) never refuses what the lane reads.
        self.max_body_bytes = min(MAX_BODY_BYTES, body_max_bytes(container.settings, PATH))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_check = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH
        length = self._admitted_length(scope) if is_check and not scope.get("root_path") else None
        if length is None:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client left: the route sees the same
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        answer = await self._answer(body) if len(body) == length else None
        if answer is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        scope["route"] = self.route
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(answer)).encode("latin-1")),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": answer})

    def _admitted_length(self, scope: Scope) -> int | None:
        """The declared body length when the request may take the lane (JSON, small, a cached key with the
        scope), else None."""
        secret = content_type = declared = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                secret = value[7:] if value.startswith(b"Bearer ") else None
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
        if secret is None or declared is None or content_type is None:
            return None
        if content_type.split(b";", 1)[0].strip().lower() != b"application/json":
            return None
        if not declared.isdigit() or int(declared) > self.max_body_bytes:
            return None
        key = self.container.key_cache.get(secret.decode("latin-1"), now=self.container.clock.now())
        if key is None or _SCOPE not in key.scopes:
            return None
        return int(declared)

    async def _answer(self, body: bytes) -> bytes | None:
        try:
            parsed = CheckBody.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # JSON or the model refused it: the route says how
            return None
        try:
            if self.container.db.is_sqlite:  # on the loop, as the route does (api.check says why)
                return answer_check(parsed, self.container)
            return await run_in_threadpool(answer_check, parsed, self.container)
        except CoinslotError:  # the caller's error (an unknown feature) or a busy database: the route's
            return None        # envelope and status say it
        except Exception:  # unexpected: the route meets it too, and answers (and logs) it as its own
            log.debug("check lane: an unexpected error, handed to the route", exc_info=True)
            return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` as the route would have seen it: the messages the lane read first, then the rest."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
