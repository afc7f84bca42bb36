"""Clients for apps that run coinslot as a service: sync and async, typed, one error.

    from coinslot.client import AsyncCoinslotClient, CoinslotError

    async with AsyncCoinslotClient("http://billing.internal:8000", api_key="cs_...") as billing:
        try:
            used = await billing.consume(host_user_id="user_42", feature="export", idempotency_key=request_id)
        except CoinslotError as refused:      # 402: refused.code == "insufficient_credits"
            ...

`CoinslotClient` has the same methods, blocking. Answers are typed (the API's own response models);
errors are `CoinslotError` with `code`, `status`, `message` and `field`. Apps that mount coinslot in their
own FastAPI app use `coinslot.library` instead.
"""

from __future__ import annotations

from coinslot.client.calls import Call
from coinslot.client.clients import AsyncCoinslotClient, CoinslotClient
from coinslot.client.errors import CoinslotError

__all__ = ["AsyncCoinslotClient", "Call", "CoinslotClient", "CoinslotClientError", "CoinslotError"]

CoinslotClientError = CoinslotError  # the 0.1 name, kept for one release
