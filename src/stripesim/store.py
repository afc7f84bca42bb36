"""Thread-safe state: every Stripe object, keyed by type and id.

Objects are plain JSON-able dicts holding ids (never nested copies) for the
fields Stripe lets you expand. Keys starting with "_" are private to the
emulator (e.g. a payment method's test-card behaviour): they are persisted
but stripped from every response and event.

Other components persist their own state in the same file through
`store.parts[name] = dump` (called under the lock at each save) and read it
back from `store.loaded_parts[name]` at start-up (webhook queue, idempotency).

One re-entrant lock guards everything; the app holds it for the whole of a
request handler, so handlers simply read and mutate dicts. Code running
outside a request (delivery worker, clock advance) must take `store.lock`.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import timeutil
from .errors import ResourceMissing

__all__ = ["Store", "new_id"]

_BASE62 = string.digits + string.ascii_letters
TEST_CLOCK_TYPE = "test_helpers.test_clock"


def new_id(prefix: str, length: int = 24) -> str:
    """`cus_` + random base62, like Stripe's ids (`cus_QXg1o8vcGmoR32`)."""
    return prefix + "_" + "".join(secrets.choice(_BASE62) for _ in range(length))


def noun_for(object_type: str) -> str:
    """How Stripe names a type in "No such ...": `checkout.session` → "checkout.session"."""
    return object_type


class Store:
    """All objects plus a small key/value area for engine state.

    `objects[type][id]` keeps insertion order, which is creation order: list
    endpoints read it backwards for Stripe's newest-first order.
    """

    def __init__(self, state_file: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.kv: dict[str, Any] = {}
        self._type_by_id: dict[str, str] = {}
        self._dirty = False
        # Other components' state saved alongside (name -> dump()); what the file held at start.
        self.parts: dict[str, Callable[[], Any]] = {}
        self.loaded_parts: dict[str, Any] = {}
        if self.state_file and self.state_file.exists():
            self._load(self.state_file)

    # ------------------------------------------------------------ objects

    def insert(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object (needs "id" and "object"); returns the stored dict."""
        with self.lock:
            object_type, object_id = obj["object"], obj["id"]
            self.objects.setdefault(object_type, {})[object_id] = obj
            self._type_by_id[object_id] = object_type
            self._dirty = True
            return obj

    def get(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.objects.get(object_type, {}).get(object_id)

    def require(self, object_type: str, object_id: Any, *, param: str = "id",
                noun: str | None = None) -> dict[str, Any]:
        """The object, or 404 "No such customer: 'cus_x'" naming `param`."""
        obj = self.get(object_type, object_id) if isinstance(object_id, str) else None
        if obj is None:
            raise ResourceMissing(noun or noun_for(object_type), str(object_id), param=param)
        return obj

    def find(self, object_id: str) -> dict[str, Any] | None:
        """Any object by id, whatever its type (used by expand)."""
        with self.lock:
            object_type = self._type_by_id.get(object_id)
            return self.get(object_type, object_id) if object_type else None

    def all(self, object_type: str) -> list[dict[str, Any]]:
        """Every object of a type, oldest first (a copy of the list, not the dicts)."""
        with self.lock:
            return list(self.objects.get(object_type, {}).values())

    def delete(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        with self.lock:
            obj = self.objects.get(object_type, {}).pop(object_id, None)
            self._type_by_id.pop(object_id, None)
            self._dirty = True
            return obj

    def touch(self) -> None:
        """Mark state changed (after mutating a dict in place) so it gets persisted."""
        self._dirty = True

    # ------------------------------------------------------------ time

    def now(self) -> int:
        """Real time, for objects not on a test clock."""
        return timeutil.now()

    def now_for_clock(self, clock_id: str | None) -> int:
        """A test clock's frozen_time; real time when there is no such clock."""
        if clock_id:
            clock = self.get(TEST_CLOCK_TYPE, clock_id)
            if clock is not None and "frozen_time" in clock:  # a deleted clock keeps no time
                return int(clock["frozen_time"])
        return timeutil.now()

    def now_for(self, customer_id: str | None) -> int:
        """"Now" as seen by a customer's objects: its test clock's time, else real time."""
        customer = self.get("customer", customer_id) if customer_id else None
        clock = customer.get("test_clock") if customer else None
        return self.now_for_clock(clock if isinstance(clock, str) else None)

    # ------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget everything (the file too, at the next save)."""
        with self.lock:
            self.objects.clear()
            self.kv.clear()
            self._type_by_id.clear()
            self._dirty = True

    def save(self, *, force: bool = False) -> None:
        """Write the state file atomically if anything changed since the last save."""
        if self.state_file is None:
            return
        with self.lock:
            if not (self._dirty or force):
                return
            parts = {name: dump() for name, dump in self.parts.items()}
            payload = json.dumps({"version": 1, "objects": self.objects, "kv": self.kv,
                                  "parts": parts})
            self._dirty = False
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(payload, encoding="utf-8")
        os.replace(tmp, self.state_file)

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.objects = data.get("objects", {})
        self.kv = data.get("kv", {})
        self.loaded_parts = data.get("parts", {})
        self._type_by_id = {
            object_id: object_type
            for object_type, by_id in self.objects.items()
            for object_id in by_id
        }
