"""Shared helpers for anshin's benchmarks (issue 2, scope 10).

Every benchmark needs the same plumbing: a free loopback port, a server in a
real subprocess that is started, waited for and always stopped, a load
generator, percentiles, the resident memory of a process tree, the machine it
ran on, and a section of bench/RESULTS.md to write. They live here so each
benchmark script is only about what it measures.

The load generator of record is ``wrk`` (C, epoll): a Python generator on a
2-core machine saturates before the server does and would measure itself.
``python_load`` exists for smoke tests and for machines without wrk.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

LOOPBACK = "127.0.0.1"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

console = Console(stderr=True)


# --- ports and servers ----------------------------------------------------------------


def free_port() -> int:
    """A TCP port on loopback nobody listens on (the OS picks it: port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, *, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """One GET on loopback over a fresh connection: (status, lower-case headers, body)."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "anshin-bench"})
        response = conn.getresponse()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, body
    finally:
        conn.close()


def wait_http(
    port: int, path: str = "/", *, timeout: float = 30.0, proc: Popen[bytes] | None = None
) -> None:
    """Wait until the server answers ``path`` (any status); fail early if it died."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering")
        try:
            http_get(port, path, timeout=2.0)
            return
        except (OSError, http.client.HTTPException) as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port}{path} within {timeout}s ({last})")


Popen = subprocess.Popen  # the alias keeps signatures short


@contextmanager
def running(
    argv: Sequence[str],
    *,
    port: int,
    ready_path: str = "/",
    env: dict[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 30.0,
) -> Iterator[Popen[bytes]]:
    """Start a server in its own process group, wait until it answers, always stop it.

    The process group lets ``stop`` reach worker processes a master spawned
    (uvicorn --workers, nginx) without touching anything else on the machine.
    """
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        list(argv),
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        try:
            wait_http(port, ready_path, timeout=timeout, proc=proc)
        except (RuntimeError, TimeoutError) as exc:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{argv[0]} did not come up: {exc}\n{tail}") from exc
        yield proc
    finally:
        stop(proc)
        if log:
            out.close()  # type: ignore[union-attr]


def stop(proc: Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(grace)
    except ProcessLookupError:
        pass


# --- memory and machine -------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident memory of one process (VmRSS from /proc, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (a master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_rss_mib(pid: int) -> tuple[float, list[float]]:
    """(total MiB, MiB per process) for a server and its workers."""
    per = [rss_kib(p) / 1024 for p in process_tree(pid)]
    return sum(per), per


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews every figure."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_until_idle(limit: float, timeout: float) -> float:
    """Wait (up to ``timeout`` s) for the 1-minute load average to fall below ``limit``."""
    deadline = time.monotonic() + timeout
    while (load := load_average()) >= limit and time.monotonic() < deadline:
        console.print(f"waiting for the machine to go idle (load average {load:.2f})")
        time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))
    return load_average()


def machine() -> dict[str, str]:
    """What the figures were measured on, for RESULTS.md."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "cpus": str(os.cpu_count() or 0),
        "model": model,
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


# --- percentiles and load ----------------------------------------------------------


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


# --- system packages ------------------------------------------------------------------


def ensure_debian_packages(commands: dict[str, Sequence[str]]) -> None:
    """Install missing tools from Debian: {command: [package, fallback package, ...]}.

    Waits for the dpkg lock when another apt run holds it. Needs root (or
    password-less sudo); otherwise it says which packages to install.
    """
    missing = {cmd: pkgs for cmd, pkgs in commands.items() if not _which(cmd)}
    if not missing:
        return
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"]).returncode == 0:
            prefix = ["sudo", "-n"]
        else:
            names = " ".join(p[0] for p in missing.values())
            sys.exit(f"missing {', '.join(missing)}: run `sudo apt-get install -y {names}`")
    apt = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q"]
    apt += ["-o", "DPkg::Lock::Timeout=600"]
    console.print(f"installing from Debian: {', '.join(p[0] for p in missing.values())}")
    subprocess.run([*apt, "update"], check=True, stdout=subprocess.DEVNULL)
    for cmd, packages in missing.items():
        for package in packages:
            done = subprocess.run([*apt, "install", "-y", "--no-install-recommends", package])
            if done.returncode == 0 and _which(cmd):
                break
        else:
            sys.exit(f"could not install {cmd} (tried {', '.join(packages)})")


def _which(cmd: str) -> str | None:
    return shutil.which(cmd) or shutil.which(cmd, path="/usr/sbin:/sbin:/usr/bin")


# --- progress and results ---------------------------------------------------------------


def progress() -> Progress:
    """The Rich progress display every benchmark shows while it runs (stderr)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; numbers right-aligned."""
    aligns = [
        "---:" if rows and all(isinstance(r[i], int | float) for r in rows) else "---"
        for i in range(len(header))
    ]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(aligns) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def today() -> str:
    """The date a result was measured (UTC, ISO)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_section(name: str, body: str, results: Path = RESULTS) -> None:
    """Replace this benchmark's section in RESULTS.md (or append it), leave the rest alone.

    Sections are fenced by ``<!-- bench:NAME -->`` markers so each benchmark
    owns exactly its own part of the file.
    """
    begin, end = f"<!-- bench:{name} begin -->", f"<!-- bench:{name} end -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    results.write_text(text if text.endswith("\n") else text + "\n")
