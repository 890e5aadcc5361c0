"""A small HTTP/1.1 keep-alive load client for the benches (standard library only; uvloop if importable).

    .venv/bin/python bench/loadgen.py < spec.json > result.json

Why not httpx: on this 2-core machine the load client shares the cores with the server it measures.
An asyncio + httpx client costs about 1.7 ms of CPU per request, which is CPU taken from the server and,
with 8 requests in flight, client-side queueing counted in every latency. This client does what wrk does:
one persistent connection per concurrent client, each request encoded to bytes once before the clock
starts; per request it writes those bytes, reads the status line and headers up to the blank line, then
exactly the body (Content-Length, or chunked transfer coding), so the client's own cost per request is
a small fraction of httpx's (`bench/bench_loadgen.py` measures both). The same client, with the same
settings, drives our server and `mlflow models serve` in `bench_api.py`, so the comparison stays fair.

Spec (a JSON object on stdin):
    url          "http://host:port/path" (plain http only)
    bodies       request bodies (strings); request i sends body (start + i) mod len(bodies)
    clients      concurrent connections, one request in flight on each (default 8)
    seconds      duration
    rate         optional: open loop at `rate` requests/s, int(rate * seconds) calls, call k due at
                 start + k / rate whatever happened to the ones before (a free client takes the next
                 call and waits for its slot; latency is timed from the send, as in the old paced
                 driver). Without `rate`: closed loop, each client sends back to back until `seconds`.
    headers      extra request headers, e.g. {"X-API-Key": "..."} (default none)
    method       default "POST"
    content_type default "application/json"
    start        index of the first body (default 0), to continue one stream of bodies over several runs
    lap_marker   optional: a string in the bodies replaced by the pass number over the list
                 ((start + i) // len(bodies)), so bodies stay distinct however long the run
    timeout      seconds per request (default 30)

Result (a JSON object on stdout): latencies (seconds, write to end of body, every call in completion
order, failed ones included), sent, ok (2xx), errors (non-2xx and transport failures), error_kinds
(status code or exception name -> count), error_samples (the first few error bodies), reconnects
(connections reopened after the server closed them or a failure), elapsed (s, first send to last
answer), cpu (the client's CPU s over the run), cpu_total (since the process started), loop; with
`rate`, late_p99 and late_max (s a send went out after its slot).

From Python: `run(spec)` in this process, `run_in_process(spec)` or `Load(spec)` in a child process.
"""

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ERROR_SAMPLES = 5
STREAM_LIMIT = 2**20  # longest status line + headers, and chunk-size line, accepted


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.x as understood here."""


async def read_response(reader: asyncio.StreamReader, head_request: bool = False) -> tuple[int, bytes, bool]:
    """One response: (status, body, connection may be reused)."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.") or len(head) < 12:
            raise ProtocolError(head[:80].decode("latin-1"))
        status = int(head[9:12])
        if status >= 200 or status == 101:
            break  # 1xx informational answers (100 Continue, 103 Early Hints) precede the real one
    low = head.lower()
    keep = head[5:8] == b"1.1"  # HTTP/1.0 closes unless it says keep-alive
    if (i := low.find(b"\r\nconnection:")) >= 0:
        value = low[i + 13 : low.index(b"\r\n", i + 2)]
        if b"close" in value:
            keep = False
        elif b"keep-alive" in value:
            keep = True
    if head_request or status in (204, 304) or status < 200:
        return status, b"", keep
    if (i := low.find(b"\r\ntransfer-encoding:")) >= 0:
        if low[i + 20 : low.index(b"\r\n", i + 2)].strip().endswith(b"chunked"):
            return status, await read_chunked(reader), keep
        return status, await reader.read(), False  # another coding: the body ends with the connection
    if (i := low.find(b"\r\ncontent-length:")) >= 0:
        return status, await reader.readexactly(int(low[i + 17 : low.index(b"\r\n", i + 2)])), keep
    return status, await reader.read(), False  # no length: the body ends with the connection


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A body in chunked transfer coding: size lines (hex, extensions ignored), data, trailers."""
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields, up to the blank line
            return b"".join(parts)
        chunk = await reader.readexactly(size + 2)
        if chunk[-2:] != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")
        parts.append(chunk[:-2])


# a failed exchange (IncompleteReadError is an EOFError; ValueError: an unreadable length)
FAILURES = (OSError, EOFError, TimeoutError, ProtocolError, ValueError, asyncio.LimitOverrunError)


class Requests:
    """Request i as bytes: encoded once up front; with a lap marker, passes after the first are filled
    in per request (a replace and a join, microseconds)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        url = urlsplit(spec["url"])
        if url.scheme != "http":
            raise SystemExit(f"only http:// URLs: {spec['url']}")
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.method = spec.get("method", "POST").upper()
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        headers = {"Host": url.netloc, **spec.get("headers", {})}
        bodies = [b.encode() for b in spec.get("bodies") or [""]]
        if any(bodies) or self.method in ("POST", "PUT", "PATCH"):
            headers.setdefault("Content-Type", spec.get("content_type", "application/json"))
        lines = [f"{self.method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
        self.prefix = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self.start = int(spec.get("start", 0))
        marker = spec.get("lap_marker")
        self.marker = marker.encode() if marker else None
        self.bodies = bodies
        self.first = [self._encode(b, 0) for b in bodies]  # pass 0, ready to send

    def _encode(self, body: bytes, lap: int) -> bytes:
        if self.marker:
            body = body.replace(self.marker, str(lap).encode())
        return b"%s%d\r\n\r\n%s" % (self.prefix, len(body), body)

    def __getitem__(self, i: int) -> bytes:
        lap, j = divmod(self.start + i, len(self.bodies))
        if lap == 0 or not self.marker:
            return self.first[j]
        return self._encode(self.bodies[j], lap)


class Run:
    """The shared state of one run: the next call, what came back."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.requests = Requests(spec)
        self.clients = int(spec.get("clients", 8))
        self.seconds = float(spec["seconds"])
        self.rate = float(spec["rate"]) if spec.get("rate") else None
        self.total = int(self.rate * self.seconds) if self.rate else None
        self.timeout = float(spec.get("timeout", 30))
        self.head_request = self.requests.method == "HEAD"
        self.next = 0
        self.latencies: list[float] = []
        self.late: list[float] = []
        self.ok = 0
        self.error_kinds: Counter[str] = Counter()
        self.error_samples: list[dict[str, Any]] = []
        self.reconnects = 0
        self.clock = 0.0

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.requests.host, self.requests.port, limit=STREAM_LIMIT)

    def failed(self, kind: str, sample: dict[str, Any]) -> None:
        self.error_kinds[kind] += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(sample)

    async def client(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        """One connection, one request in flight, until the run is over."""
        perf_counter, requests, rate = time.perf_counter, self.requests, self.rate
        stop = self.clock + self.seconds
        while True:
            i = self.next  # taken before any await: no other client can take the same call
            if rate is None:
                if perf_counter() >= stop:
                    break
                self.next = i + 1
            else:
                if i >= self.total:  # type: ignore[operator]
                    break
                self.next = i + 1
                due = self.clock + i / rate
                if (wait := due - perf_counter()) > 0:
                    await asyncio.sleep(wait)
                self.late.append(perf_counter() - due)
            request = requests[i]
            connecting = False
            t = perf_counter()
            try:
                async with asyncio.timeout(self.timeout):
                    if conn is None or conn[0].at_eof() or conn[1].is_closing():
                        if conn is not None:  # the server closed an idle connection
                            conn[1].close()
                        connecting = True
                        conn = await self.connect()
                        connecting = False
                        self.reconnects += 1
                    reader, writer = conn
                    writer.write(request)
                    if writer.transport.get_write_buffer_size():
                        await writer.drain()
                    status, body, keep = await read_response(reader, self.head_request)
            except FAILURES as exc:
                self.latencies.append(perf_counter() - t)
                self.failed(type(exc).__name__, {"error": repr(exc)[:500]})
                if conn is not None:
                    conn[1].close()
                    conn = None
                if connecting:  # the server is not there: do not spin
                    await asyncio.sleep(0.01)
                continue
            self.latencies.append(perf_counter() - t)
            if 200 <= status < 300:
                self.ok += 1
            else:
                self.failed(str(status), {"status": status, "body": body[:500].decode("utf-8", "replace")})
            if not keep:
                writer.close()
                conn = None
        if conn is not None:
            conn[1].close()

    async def main(self) -> dict[str, Any]:
        conns = await asyncio.gather(*(self.connect() for _ in range(self.clients)))  # before the clock
        cpu = time.process_time()
        self.clock = time.perf_counter()
        await asyncio.gather(*(self.client(c) for c in conns))
        elapsed = time.perf_counter() - self.clock
        cpu = time.process_time() - cpu
        result = {
            "latencies": self.latencies,
            "sent": self.next,
            "ok": self.ok,
            "errors": sum(self.error_kinds.values()),
            "error_kinds": dict(self.error_kinds),
            "error_samples": self.error_samples,
            "reconnects": self.reconnects,
            "elapsed": elapsed,
            "cpu": cpu,
        }
        if self.late:
            late = sorted(self.late)
            result["late_p99"] = late[min(len(late) - 1, int(0.99 * len(late)))]
            result["late_max"] = late[-1]
        return result


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load described by `spec` in this process (on uvloop if it is installed)."""
    try:
        import uvloop

        factory, loop = uvloop.new_event_loop, "uvloop"
    except ImportError:
        factory, loop = None, "asyncio"
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(Run(spec).main())
    return {**result, "cpu_total": time.process_time(), "loop": loop}


class Load:
    """The load client running in a child process; `running()` while it runs, `result()` when done."""

    def __init__(self, spec: dict[str, Any]) -> None:
        # files, not pipes: the caller may poll while it runs and the result may be megabytes
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 (closed in result())
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=self._out,
            stderr=self._err,
        )
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(spec).encode())
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # it died early; result() says why

    def running(self) -> bool:
        return self.process.poll() is None

    def result(self) -> dict[str, Any]:
        code = self.process.wait()
        self._out.seek(0)
        self._err.seek(0)
        out, err = self._out.read(), self._err.read()
        self._out.close()
        self._err.close()
        if code != 0:
            raise RuntimeError(f"load client exited with {code}: {err.decode(errors='replace')[-2000:]}")
        return json.loads(out)


def run_in_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load described by `spec` in a child process and wait for its result."""
    return Load(spec).result()


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
