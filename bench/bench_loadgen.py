"""The load client's own cost: bench/loadgen.py against the asyncio + httpx client it replaced.

    .venv/bin/python bench/bench_loadgen.py [--seconds 5] [--clients 8] [--body-bytes 1000]

1. Protocol checks of loadgen (a second or so): responses parsed from bytes (Content-Length, chunked
   with extensions and trailers, 1xx before the answer, 204, HTTP/1.0, Connection: close, body up to
   the close), then a short run against a canned raw-socket server that mixes those answers with a 500
   on one connection, so a misread body would desynchronise the stream and show as errors.
2. Cost: starts uvicorn on a trivial Starlette app (POST echoes the body length as JSON) in a subprocess
   and drives it for `--seconds` with `--clients` connections, first with the old httpx client, then
   with loadgen, each in its own process; then loadgen again, paced at the rate httpx reached (its cost
   per call without the batching a saturated loop gets). Reports req/s, the client's CPU per request
   over the run (its own process_time) and over its whole process (getrusage of the reaped child:
   start-up and imports included), and the server's CPU per request. The clients share the 2 cores
   with the server, as in the real benches, so req/s also shows what the client takes from the server.
"""

import argparse
import asyncio
import json
import resource
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen

# The client bench_api.py used before loadgen (its LOAD_CLIENT), with its CPU over the run added.
HTTPX_CLIENT = r"""
import asyncio, json, sys, time
import httpx

async def main(url, headers, bodies, clients, seconds):
    latencies, errors, sent = [], 0, 0
    stop = time.perf_counter() + seconds
    queue = iter(range(10**9))
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=limits) as client:
        async def worker():
            nonlocal errors, sent
            while time.perf_counter() < stop:
                i = next(queue)
                body = bodies[i % len(bodies)]
                t = time.perf_counter()
                r = await client.post(url, content=body, headers={"Content-Type": "application/json"})
                latencies.append(time.perf_counter() - t)
                sent += 1
                if r.status_code != 200:
                    errors += 1
        cpu = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    out = {"latencies": latencies, "errors": errors, "sent": sent, "elapsed": elapsed, "cpu": cpu}
    print(json.dumps(out))

spec = json.load(sys.stdin)
bodies = [b.encode() for b in spec["bodies"]]
asyncio.run(main(spec["url"], spec["headers"], bodies, spec["clients"], spec["seconds"]))
"""

SERVER = r"""
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"ok": True, "bytes": len(body)})

async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})

app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/ping", ping)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


# ---- protocol checks -------------------------------------------------------------------------------------
CANNED = {
    # request body -> raw response
    b"length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
    b"chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
    b"error": b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n"
    b"2\r\nbo\r\n2\r\nom\r\n0\r\n\r\n",
    b"continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    b"empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    b"close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
    b"http10": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"eof": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
}
CLOSES = {b"close", b"http10", b"eof"}
EXPECTED = {
    b"length": (200, b"hello", True),
    b"chunked": (200, b"hello world", True),
    b"error": (500, b"boom", True),
    b"continue": (201, b"ok", True),
    b"empty": (204, b"", True),
    b"close": (200, b"bye", False),
    b"http10": (200, b"ok", False),
    b"eof": (200, b"until the end", False),
}


class CannedHandler(socketserver.BaseRequestHandler):
    """Answers each request on the connection with CANNED[its body]; closes after the closing ones."""

    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                data = self.request.recv(65536)
                if not data:
                    return
                buffer += data
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            while len(buffer) < length:
                buffer += self.request.recv(65536)
            body, buffer = buffer[:length], buffer[length:]
            # send in small pieces so the reader meets chunk boundaries mid-read
            response = CANNED[body]
            for i in range(0, len(response), 7):
                self.request.sendall(response[i : i + 7])
            if body in CLOSES:
                self.request.close()
                return


def check_protocol() -> None:
    """Parse each canned answer from bytes, then run loadgen against the canned server."""

    async def parse(raw: bytes) -> tuple[int, bytes, bool]:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await loadgen.read_response(reader)

    for name, raw in CANNED.items():
        got = asyncio.run(parse(raw))
        assert got == EXPECTED[name], (name, got)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), CannedHandler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        kinds = [k.decode() for k in CANNED]
        result = loadgen.run(
            {"url": f"http://127.0.0.1:{port}/x", "bodies": kinds, "clients": 3, "seconds": 0.5}
        )
        paced = loadgen.run(
            {"url": f"http://127.0.0.1:{port}/x", "bodies": ["length"], "clients": 2, "seconds": 0.5,
             "rate": 100, "headers": {"X-API-Key": "k"}}
        )  # fmt: skip
        server.shutdown()
    sent = result["sent"]
    per_kind = {k: sent // len(kinds) + (i < sent % len(kinds)) for i, k in enumerate(kinds)}
    assert result["error_kinds"] == {"500": per_kind["error"]}, result["error_kinds"]
    assert result["error_samples"][0] == {"status": 500, "body": "boom"}, result["error_samples"]
    assert result["ok"] == sent - per_kind["error"]
    closes = sum(per_kind[k.decode()] for k in CLOSES)
    assert closes - 3 <= result["reconnects"] <= closes, (result["reconnects"], closes)
    assert paced["sent"] == 50 and paced["ok"] == 50 and paced["errors"] == 0, paced
    print(
        f"protocol checks passed ({sent} mixed calls: {result['ok']} ok, {result['errors']} 500s read in "
        f"chunks, {result['reconnects']} reconnects; paced 100/s: {paced['sent']} calls, "
        f"latest send {paced['late_max'] * 1000:.1f} ms after its slot)"
    )


# ---- cost ------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, spec: dict[str, Any], server: psutil.Process) -> dict[str, Any]:
    """One client run in its own process: its figures, its CPU, the server's CPU meanwhile."""
    before, server_before = children_cpu(), sum(server.cpu_times()[:2])
    if name == "httpx":
        done = subprocess.run(
            [sys.executable, "-c", HTTPX_CLIENT], input=json.dumps(spec), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        result = json.loads(done.stdout)
    else:
        result = loadgen.run_in_process(spec)
    process_cpu = children_cpu() - before
    server_cpu = sum(server.cpu_times()[:2]) - server_before
    lat = np.array(result["latencies"]) * 1000
    sent = result["sent"]
    return {
        "name": name,
        "sent": sent,
        "errors": result["errors"],
        "rps": sent / result["elapsed"],
        "cpu_run_ms": result["cpu"] / sent * 1000,
        "cpu_process_ms": process_cpu / sent * 1000,
        "server_ms": server_cpu / sent * 1000,
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--body-bytes", type=int, default=1000)
    args = parser.parse_args()
    check_protocol()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the trivial server did not start") from None
                time.sleep(0.2)
        filler = "x" * max(0, args.body_bytes - 40)
        bodies = [json.dumps({"line_id": f"L{i:06d}", "filler": filler}) for i in range(1000)]
        spec = {
            "url": f"http://127.0.0.1:{port}/echo",
            "headers": {"X-API-Key": "bench-key"},
            "bodies": bodies,
            "clients": args.clients,
            "seconds": args.seconds,
        }
        server = psutil.Process(process.pid)
        rows = [measure(name, spec, server) for name in ("httpx", "loadgen")]
        # the same rate as httpx managed: the client's cost per call without the batching a busy loop gets
        paced = measure("loadgen", {**spec, "rate": rows[0]["rps"]}, server)
        rows.append({**paced, "name": f"loadgen at {rows[0]['rps']:,.0f}/s"})
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(
        f"trivial Starlette app on uvicorn (1 worker); {args.clients} clients, {args.seconds:g} s each, "
        f"{len(bodies[0])}-byte bodies; CPU in ms per request"
    )
    print("| client | requests | errors | req/s | client CPU (run) | client CPU (process) | server CPU "
          "| p50 ms | p99 ms |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['name']} | {r['sent']:,} | {r['errors']} | {r['rps']:,.0f} | {r['cpu_run_ms']:.3f} "
            f"| {r['cpu_process_ms']:.3f} | {r['server_ms']:.3f} | {r['p50']:.2f} | {r['p99']:.2f} |"
        )


if __name__ == "__main__":
    main()
