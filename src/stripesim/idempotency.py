"""`Idempotency-Key` on POST: replay the first answer, refuse reuse with other params.

Keyed by (method, path, key). The SDK sends a fresh uuid on every POST, so
this stays a dict lookup plus a hash of the decoded params. Keys expire
after 24 h (as Stripe prunes them) and the table is bounded. With a state
file the most recent `PERSISTED_KEYS` answered keys are saved too (`dump`,
`restore`), so a retry after a restart is still replayed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from . import timeutil
from .errors import ConflictError, IdempotencyError

__all__ = ["IdempotencyCache", "SavedResponse", "fingerprint"]

TTL_S = 24 * 3600
MAX_KEYS = 50_000
# Saved to the state file (rewritten after every write request): keep it small.
PERSISTED_KEYS = 1_000


@dataclass
class SavedResponse:
    fingerprint: str
    created_s: float
    status: int | None = None
    body: bytes = b""
    request_id: str = ""

    @property
    def in_flight(self) -> bool:
        return self.status is None


def fingerprint(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


class IdempotencyCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], SavedResponse] = OrderedDict()

    def begin(self, method: str, path: str, key: str, params: dict[str, Any]) -> SavedResponse | None:
        """None: go ahead (the key is now in flight). A SavedResponse: replay it."""
        slot = (method, path, key)
        digest = fingerprint(params)
        now_s = timeutil.wall_s()
        with self._lock:
            entry = self._entries.get(slot)
            if entry is not None and now_s - entry.created_s > TTL_S:
                entry = None
            if entry is None:
                self._entries[slot] = SavedResponse(digest, now_s)
                while len(self._entries) > MAX_KEYS:
                    self._entries.popitem(last=False)
                return None
            if entry.in_flight:
                raise ConflictError(
                    "There is currently another in-progress request using this "
                    f"Idempotent Key (that probably means you submitted twice, and the "
                    f"other request is still going through): {key}. Please try again later.",
                    code="idempotency_key_in_use")
            if entry.fingerprint != digest:
                raise IdempotencyError(
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.")
            return entry

    def finish(self, method: str, path: str, key: str, *, status: int, body: bytes,
               request_id: str, save: bool) -> None:
        """Keep the answer for replays, or forget the key (validation failures)."""
        slot = (method, path, key)
        with self._lock:
            entry = self._entries.get(slot)
            if entry is None:
                return
            if save:
                entry.status, entry.body, entry.request_id = status, body, request_id
            else:
                del self._entries[slot]

    def dump(self) -> list[dict[str, Any]]:
        """The newest answered, unexpired keys, JSON-able (bodies are JSON text)."""
        oldest = timeutil.wall_s() - TTL_S
        with self._lock:
            answered = [(slot, e) for slot, e in self._entries.items()
                        if e.status is not None and e.created_s >= oldest]
        return [{"method": m, "path": p, "key": k, "fingerprint": e.fingerprint,
                 "created_s": e.created_s, "status": e.status,
                 "body": e.body.decode("utf-8"), "request_id": e.request_id}
                for (m, p, k), e in answered[-PERSISTED_KEYS:]]

    def restore(self, saved: list[dict[str, Any]]) -> None:
        with self._lock:
            for info in saved:
                self._entries[(info["method"], info["path"], info["key"])] = SavedResponse(
                    info["fingerprint"], float(info["created_s"]), int(info["status"]),
                    str(info["body"]).encode("utf-8"), str(info["request_id"]))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
