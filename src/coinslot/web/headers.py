"""Security headers on every answer: a strict Content-Security-Policy, no MIME sniffing, a referrer policy,
no caching of anything that can carry a customer's data, and HSTS when the request came over HTTPS.

The pages need nothing from another origin (no CDN, no third-party script, no inline script or style),
so their policy is "self" only. The API reference (`/docs`, `/redoc`) is the one exception: Swagger UI is
started by an inline script and both viewers draw data: icons, ReDoc styles its DOM inline and searches in
a blob: worker; those two routes set their own policy (`api_docs_policy`), which this middleware leaves.

A plain ASGI middleware, like RequestContextMiddleware: it only appends headers to the response start.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PAGE_POLICY", "SecurityHeadersMiddleware", "api_docs_policy"]

# `form-action` is left out on purpose: Chromium applies it to the redirect a form's answer makes, and
# the checkout and portal forms are answered by a redirect to Stripe's hosted pages (whose origin a
# Stripe account may customise), so any list here would break them. Forms can only post what the
# (autoescaped) templates wrote.
PAGE_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])

HSTS = "max-age=31536000"  # a year; no includeSubDomains: the other hosts of the domain are not ours to pin

# Answers whose body may carry a customer's data (pages, JSON) are never stored by a browser or a proxy,
# unless the route said otherwise (the public catalog may be cached for a minute). Static files are left
# to their own caching: their URLs carry a content hash.
_NO_STORE_TYPES = (b"text/html", b"application/json")

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def api_docs_policy(html: str, *, redoc: bool = False) -> str:
    """The policy of an API-reference page, measured in Chromium (tests/browser/test_security_headers.py):
    its inline start-up script by hash (nothing else inline runs), the viewer's own assets, data: images
    (both viewers' icons); ReDoc also styles its DOM with inline <style> (styled-components) and runs its
    search in a blob: worker. Nothing from another origin: ReDoc's footer logo from its CDN stays refused."""
    hashes = "".join(
        " 'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    parts = [
        "default-src 'none'",
        f"script-src 'self'{hashes}",
        "style-src 'self' 'unsafe-inline'" if redoc else "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
    if redoc:
        parts.append("worker-src blob:")
    return "; ".join(parts)


class SecurityHeadersMiddleware:
    """Adds the headers a response did not set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                content_type = next((value for name, value in headers if name.lower() == b"content-type"),
                                    b"")
                added = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", PAGE_POLICY.encode()),
                    (b"x-frame-options", b"DENY"),
                ]
                if content_type.startswith(_NO_STORE_TYPES) or message["status"] in (301, 302, 303, 307, 308):
                    added.append((b"cache-control", b"no-store"))
                if secure:
                    added.append((b"strict-transport-security", HSTS.encode()))
                message["headers"] = headers + [(name, value) for name, value in added if name not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
