"""`Idempotency-Key` on POST: replay the first answer, refuse reuse elsewhere.

As with Stripe a key belongs to the account (one per `Sim`), not to an
endpoint: the table is keyed by the key alone and each entry remembers the
endpoint (method, path) it was first used on. The same key on the same
endpoint with the same params replays; with other params, or on another
endpoint, it is a 400 `idempotency_error`. The SDK sends a fresh uuid on
every POST, so this stays a dict lookup plus a hash of the decoded params.
Keys expire after 24 h (as Stripe prunes them) and the table is bounded.
With a state file the most recent `PERSISTED_KEYS` answered keys are saved
too (`dump`, `restore`), so a retry after a restart is still replayed.

State-file format: a list of `{"method", "path", "key", "fingerprint",
"created_s", "status", "body", "request_id"}`, unchanged from when keys
were scoped by (method, path, key). Files of that time may hold one key
under several endpoints; `restore` keeps the newest of those entries (by
`created_s`; on a tie the later one in the list) and drops the rest.
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
    method: str
    path: str
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
        # key -> the first request's endpoint, params digest and (once answered) answer.
        self._entries: OrderedDict[str, SavedResponse] = OrderedDict()

    def begin(self, method: str, path: str, key: str, params: dict[str, Any]) -> SavedResponse | None:
        """None: go ahead (the key is now in flight). A SavedResponse: replay it."""
        digest = fingerprint(params)
        now_s = timeutil.wall_s()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now_s - entry.created_s > TTL_S:
                entry = None
            if entry is None:
                self._entries[key] = SavedResponse(digest, now_s, method, path)
                self._entries.move_to_end(key)  # an expired key reused is new again
                while len(self._entries) > MAX_KEYS:
                    self._entries.popitem(last=False)
                return None
            if (entry.method, entry.path) != (method, path):
                raise IdempotencyError(
                    "Keys for idempotent requests can only be used for the same endpoint "
                    f"they were first used for ('{entry.method} {entry.path}' vs "
                    f"'{method} {path}'). Try using a key other than '{key}' if you meant "
                    "to execute a different request.")
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
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.in_flight or (entry.method, entry.path) != (method, path):
                return  # not the entry this request put in flight (pruned meanwhile)
            if save:
                entry.status, entry.body, entry.request_id = status, body, request_id
            else:
                del self._entries[key]

    def dump(self) -> list[dict[str, Any]]:
        """The newest answered, unexpired keys, JSON-able (bodies are JSON text)."""
        oldest = timeutil.wall_s() - TTL_S
        with self._lock:
            answered = [(k, e) for k, e in self._entries.items()
                        if e.status is not None and e.created_s >= oldest]
        return [{"method": e.method, "path": e.path, "key": k, "fingerprint": e.fingerprint,
                 "created_s": e.created_s, "status": e.status,
                 "body": e.body.decode("utf-8"), "request_id": e.request_id}
                for k, e in answered[-PERSISTED_KEYS:]]

    def restore(self, saved: list[dict[str, Any]]) -> None:
        """Load `dump()` output; see the module docstring for older files."""
        with self._lock:
            for info in saved:
                key = str(info["key"])
                entry = SavedResponse(
                    str(info["fingerprint"]), float(info["created_s"]), str(info["method"]),
                    str(info["path"]), int(info["status"]), str(info["body"]).encode("utf-8"),
                    str(info["request_id"]))
                known = self._entries.get(key)
                if known is not None and known.created_s > entry.created_s:
                    continue  # an old file with this key on two endpoints: newest wins
                self._entries.pop(key, None)
                self._entries[key] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
