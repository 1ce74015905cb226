"""Load generation and latency figures: wrk's report, a small asyncio generator, percentiles.

The load generator of record is ``wrk`` (C, epoll): a Python generator on a
2-core machine saturates before the server does and would measure itself.
``python_load`` exists for smoke tests and for machines without wrk.
Re-exported by ``common``.
"""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from procs import LOOPBACK


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank: a latency some request really had."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    """One load run: throughput, latency percentiles (ms) and what went wrong."""

    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    notes: list[str] = field(default_factory=list)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Read wrk's ``--latency`` report (requests/sec, latency distribution, errors)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rps and total and p50 and p99):
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sock:
        errors += sum(int(n) for n in sock.groups())
    return LoadResult(
        tool="wrk",
        requests=int(total.group(1)),
        seconds=_ms(total.group(2) + total.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        errors=errors,
    )


def wrk(
    port: int,
    path: str,
    *,
    duration: float,
    connections: int,
    threads: int = 1,
    tick: Callable[[float], None] | None = None,
) -> LoadResult:
    """Drive ``path`` with wrk for ``duration`` seconds; ``tick`` gets the elapsed fraction."""
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        f"http://{LOOPBACK}:{port}{path}",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started = time.monotonic()
    while proc.poll() is None:
        if tick:
            tick(min(1.0, (time.monotonic() - started) / duration))
        time.sleep(0.1)
    output = proc.stdout.read().decode() if proc.stdout else ""
    if proc.returncode:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{output}")
    if tick:
        tick(1.0)
    return parse_wrk(output)


def _request(path: str, port: int, *, close: bool = False) -> bytes:
    connection = "close" if close else "keep-alive"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\n"
        f"User-Agent: anshin-bench\r\nConnection: {connection}\r\n\r\n"
    ).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names; ``:version`` holds the HTTP version) and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split()[0], int(lines[0].split()[1])
    headers = {":version": version}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(p[:-2] for p in parts)
    else:
        body = await reader.read()
    return status, headers, body


def _closes(headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    return connection == "close" or (
        headers[":version"] == "HTTP/1.0" and connection != "keep-alive"
    )


def python_load(
    port: int, path: str, *, requests: int, connections: int = 8, timeout: float = 10.0
) -> LoadResult:
    """A bounded keep-alive load in asyncio: ``requests`` GETs over ``connections`` sockets.

    Slower than wrk (it measures itself as much as the server on few cores);
    it is here so the helpers can be proven to work without wrk installed.
    """
    # A thread of its own: the caller may already run an event loop (pytest plugins do).
    with ThreadPoolExecutor(max_workers=1) as pool:
        work = pool.submit(asyncio.run, _python_load(port, path, requests, connections, timeout))
        return work.result()


async def _python_load(
    port: int, path: str, requests: int, connections: int, timeout: float
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    remaining = requests

    async def worker() -> None:
        nonlocal errors, remaining
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        request = _request(path, port)
        try:
            while remaining > 0:
                remaining -= 1
                began = time.perf_counter()
                writer.write(request)
                await writer.drain()
                status, headers, _body = await asyncio.wait_for(_read_response(reader), timeout)
                latencies.append((time.perf_counter() - began) * 1000)
                if not 200 <= status < 400:
                    errors += 1
                if _closes(headers):  # an HTTP/1.0 server: one request per connection
                    writer.close()
                    reader, writer = await asyncio.open_connection(LOOPBACK, port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(connections, requests)))))
    seconds = time.perf_counter() - started
    return LoadResult(
        tool="python",
        requests=len(latencies),
        seconds=seconds,
        rps=len(latencies) / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        errors=errors,
    )
