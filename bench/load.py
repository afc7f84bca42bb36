"""The load generator: HTTP/1.1 keep-alive requests at a fixed concurrency, in a second process.

It runs in its own process (`python -m bench.load SPEC`) so that its CPU is
not taken from the server's interpreter, and it writes raw pre-built
requests on asyncio streams (uvloop when installed) instead of using an HTTP
client library: on a 2-core machine a full client (httpx: ~150 µs of Python
per request) would be the bottleneck and every ratio would drift towards
1.0. Each connection sends one request, reads the whole answer
(Content-Length or chunked), and records the round trip in integer ns.

The load is bounded twice: at most `count` requests, and no new request after
`duration_s`. Requests are taken in order from the list (wrapping around), so
a list of unique webhook bodies longer than `count` never repeats one.
"""

from __future__ import annotations

import asyncio
import json
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import NS_PER_S, Sample, sample_of

__all__ = ["LoadResult", "build_request", "run_load"]


def build_request(method: str, path: str, *, port: int, body: bytes = b"",
                  headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True, slots=True)
class LoadResult:
    sample: Sample
    statuses: dict[str, int]


def _write_requests(path: Path, requests: list[bytes]) -> None:
    with path.open("wb") as out:
        for request in requests:
            out.write(struct.pack(">I", len(request)))
            out.write(request)


def _read_requests(path: Path) -> list[bytes]:
    data = path.read_bytes()
    requests, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        requests.append(data[offset + 4: offset + 4 + size])
        offset += 4 + size
    return requests


def run_load(port: int, requests: list[bytes], *, concurrency: int, count: int, duration_s: float,
             warmup: int = 0, timeout_s: float = 120.0) -> LoadResult:
    """Drive 127.0.0.1:`port` from a child process; the first `warmup` requests are not recorded."""
    with tempfile.TemporaryDirectory(prefix="coinslot-load-") as tmp:
        requests_path = Path(tmp) / "requests.bin"
        _write_requests(requests_path, requests)
        spec = {"port": port, "requests": str(requests_path), "concurrency": concurrency, "count": count,
                "duration_s": duration_s, "warmup": warmup}
        done = subprocess.run([sys.executable, "-m", "bench.load", json.dumps(spec)], capture_output=True,
                              text=True, timeout=timeout_s + duration_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.strip()[-2000:]}")
    answer = json.loads(done.stdout)
    if not answer["latencies_ns"]:
        raise RuntimeError(f"load generator completed no request: {answer['statuses']}")
    sample = sample_of(answer["latencies_ns"], answer["elapsed_ns"], errors=answer["errors"])
    return LoadResult(sample, answer["statuses"])


class _Run:
    """Shared by the connections of one run (one event loop: no locks needed)."""

    def __init__(self, requests: list[bytes], count: int, duration_s: float, record: bool) -> None:
        self.requests = requests
        self.count = count
        self.deadline_ns = time.perf_counter_ns() + int(duration_s * NS_PER_S)
        self.issued = 0
        self.record = record
        self.latencies_ns: list[int] = []
        self.statuses: dict[str, int] = {}
        self.errors = 0

    def next_request(self) -> bytes | None:
        if self.issued >= self.count or time.perf_counter_ns() > self.deadline_ns:
            return None
        request = self.requests[self.issued % len(self.requests)]
        self.issued += 1
        return request


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lowered = head.lower()
    marker = lowered.find(b"content-length:")
    if marker >= 0:
        end = lowered.index(b"\r\n", marker)
        await reader.readexactly(int(lowered[marker + 15: end]))
        return status
    if b"transfer-encoding: chunked" in lowered:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return status
    raise RuntimeError("answer without Content-Length or chunked encoding")


async def _connection(port: int, run: _Run, offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (request := run.next_request()) is not None:
            started = time.perf_counter_ns()
            writer.write(request)
            status = await _read_answer(reader)
            elapsed = time.perf_counter_ns() - started
            if run.record:
                run.latencies_ns.append(elapsed)
                run.statuses[str(status)] = run.statuses.get(str(status), 0) + 1
                run.errors += 0 if 200 <= status < 300 else 1
    finally:
        writer.close()


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    requests = _read_requests(Path(spec["requests"]))
    concurrency = int(spec["concurrency"])
    if spec["warmup"]:
        warm = _Run(requests, int(spec["warmup"]), 30.0, record=False)
        await asyncio.gather(*(_connection(spec["port"], warm, i) for i in range(concurrency)))
        # The measured run continues after the warm-up requests (unique bodies stay unique).
        requests = requests[warm.issued:] + requests[:warm.issued]
    run = _Run(requests, int(spec["count"]), float(spec["duration_s"]), record=True)
    started = time.perf_counter_ns()
    await asyncio.gather(*(_connection(spec["port"], run, i) for i in range(concurrency)))
    return {"latencies_ns": run.latencies_ns, "elapsed_ns": time.perf_counter_ns() - started,
            "statuses": run.statuses, "errors": run.errors}


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        import uvloop
    except ImportError:  # plain asyncio works, a little slower
        print(json.dumps(asyncio.run(_drive(spec))))
        return
    print(json.dumps(uvloop.run(_drive(spec))))


if __name__ == "__main__":
    main()
