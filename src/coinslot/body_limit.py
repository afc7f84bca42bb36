"""Every request body is bounded before anything parses it, per route.

Without it, an 80 MB JSON body on `POST /v1/orders` was read and parsed whole before the order's 64 KiB
payload check refused it, and a form of any size was read by the pages. The bound is applied while the
body is read: a declared Content-Length over it is refused before a byte is read, a chunked body as soon
as it passes it. The refusal is a 413 raised as an HTTPException from the body read, so each route renders
it its own way (the API's JSON envelope, the pages' error page).

| route                                        | limit                                            |
|----------------------------------------------|--------------------------------------------------|
| POST /v1/orders, POST /v1/checkout/sessions   | 4 × COINSLOT_ORDER_PAYLOAD_MAX_BYTES + 16 KiB     |
| POST /webhooks/stripe                         | COINSLOT_WEBHOOK_MAX_BODY_BYTES (512 KiB)          |
| every other route (API bodies, page forms)    | 16 KiB                                           |

The order routes carry the user's form (`payload`), whose own limit counts it as stored (compact UTF-8
JSON); sent pretty-printed or with \\u escapes it is up to about three times that, hence the factor.
The table is documented in docs/security.md and in each route's 413 in the OpenAPI document.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coinslot.config import Settings

__all__ = ["BODY_MAX_BYTES", "BodyLimitMiddleware", "body_max_bytes"]

BODY_MAX_BYTES = 16 * 1024  # a JSON body or a page's form: the largest real one is a few hundred bytes
_PAYLOAD_ROUTES = frozenset({"/v1/orders", "/v1/checkout/sessions"})
_PAYLOAD_ESCAPE_FACTOR = 4


def body_max_bytes(settings: Settings, path: str) -> int:
    """The largest body `path` (as routed, without the mount path) accepts."""
    if path in _PAYLOAD_ROUTES:
        return _PAYLOAD_ESCAPE_FACTOR * settings.order_payload_max_bytes + BODY_MAX_BYTES
    if path == "/webhooks/stripe":
        return settings.webhook_max_body_bytes
    return BODY_MAX_BYTES


def too_large(limit_bytes: int) -> HTTPException:
    return HTTPException(413, f"the request body is over this route's {limit_bytes}-byte limit")


class BodyLimitMiddleware:
    """Counts the bytes a route reads and stops at its limit (see the module's table)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # GET and HEAD routes read no body here: whatever a client attaches to one is never parsed.
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        limit_bytes = body_max_bytes(self.settings, path)
        declared = _content_length(scope)
        received_bytes = 0

        async def bounded_receive() -> Message:
            nonlocal received_bytes
            if declared is not None and declared > limit_bytes:
                raise too_large(limit_bytes)  # refused before a byte is read
            message = await receive()
            if message["type"] == "http.request":
                received_bytes += len(message.get("body", b""))
                if received_bytes > limit_bytes:
                    raise too_large(limit_bytes)
            return message

        await self.app(scope, bounded_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else None
    return None
