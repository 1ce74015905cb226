"""Servers in real subprocesses and the memory of process trees (benchmark plumbing).

Every benchmark starts what it measures in a process of its own, waits until it
answers, always stops it (with anything it spawned), and reads its resident
memory from /proc. Re-exported by ``common``.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

LOOPBACK = "127.0.0.1"


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
