"""Plumbing of the fan-out benchmark: a throwaway database, its subscribers, worker processes.

None of this is measured. The subscribers are bulk-inserted (the product's
``seed_subscribers`` helper plus one INSERT for the webhooks); what the
benchmark measures starts at the product's ``fan_out`` and ends when the
sink accepts the last message.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from anshin import migrations
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker, normalise_url, transaction
from anshin.notify.models import Subscriber
from anshin.notify.sink import seed_subscribers
from common import LOOPBACK, free_port, process_tree, running, stop

BENCH = Path(__file__).resolve().parent
HOOK_SECRET = "bench-webhook-secret"


def control(port: int, path: str) -> Any:
    """GET a JSON answer from the sink process's control port."""
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=30) as answer:
        return json.load(answer)


@contextmanager
def sink_process(
    work: Path, name: str, loop: str = "uvloop"
) -> Iterator[tuple[int, dict[str, int]]]:
    """Run bench/fanout_sink.py; yields (control port, {"smtp", "http", "pid"})."""
    port = free_port()
    argv = [sys.executable, str(BENCH / "fanout_sink.py"), str(port), loop]
    with running(argv, port=port, log=work / f"sink-{name}.log") as proc:
        ports = control(port, "/")
        yield port, {**ports, "pid": proc.pid}


@contextmanager
def throwaway_database(work: Path, server_url: str | None) -> Iterator[str]:
    """A fresh database: a SQLite file in ``work``, or a new PostgreSQL database, dropped after.

    ``--database-url`` names a server (any database on it serves to connect):
    the benchmark never writes 100,000 rows into a database someone uses.
    """
    if not server_url:
        yield f"sqlite:///{work / 'fanout.db'}"
        return
    url = make_url(normalise_url(server_url))
    if url.get_backend_name() != "postgresql":
        raise SystemExit("--database-url must be a postgresql:// URL (SQLite is the default)")
    name = f"anshin_fanout_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, emails: int, webhooks: int, hook_port: int) -> None:
    """Create the schema with the product's migrations and bulk-insert active subscribers."""
    migrations.upgrade(url, "head")
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            seed_subscribers(session, emails, prefix="user", domain="example.com")
            if webhooks:
                session.execute(
                    insert(Subscriber),
                    [
                        {
                            "kind": "webhook",
                            "address": f"http://{LOOPBACK}:{hook_port}/hook/{i}",
                            "locale": "ja",
                            "status": "active",
                            "webhook_format": "anshin",
                            "secret": HOOK_SECRET,
                            "source": "staff",
                        }
                        for i in range(webhooks)
                    ],
                )
    finally:
        engine.dispose()


def worker_env(settings: Settings) -> dict[str, str]:
    """What an ``anshin worker`` process needs to reach the same database, queue and sink."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(
        {
            "ANSHIN_DATABASE_URL": settings.database_url,
            "ANSHIN_SECRET_KEY": settings.secret_key,
            "ANSHIN_SMTP_HOST": settings.smtp_host,
            "ANSHIN_SMTP_PORT": str(settings.smtp_port),
            "ANSHIN_SMTP_FROM": settings.smtp_from,
            "ANSHIN_DELIVERY_BATCH_SIZE": str(settings.delivery_batch_size),
            # The benchmark's webhook receiver listens on 127.0.0.1 (SSRF guard, docs/delivery.md).
            "ANSHIN_WEBHOOK_ALLOWED_NETWORKS": json.dumps(settings.webhook_allowed_networks),
        }
    )
    if settings.queue_url:
        env["ANSHIN_QUEUE_URL"] = settings.queue_url
    return env


@contextmanager
def workers(
    work: Path, settings: Settings, processes: int, threads: int
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start ``processes`` × ``anshin worker --workers threads``; wait until each consumes."""
    procs: list[subprocess.Popen[bytes]] = []
    logs = [work / f"worker-{i}.log" for i in range(processes)]
    try:
        for log in logs:
            with log.open("ab") as out:
                argv = [sys.executable, "-m", "anshin.notify", "worker", "--workers", str(threads)]
                procs.append(
                    subprocess.Popen(
                        argv,
                        env=worker_env(settings),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + 60
        for proc, log in zip(procs, logs, strict=True):
            while "consumer started" not in log.read_text(errors="replace").lower():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.05)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            stop(proc, grace=30)


def _status(pid: int, field: str) -> int:
    """A KiB figure from /proc/PID/status (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, MiB."""
    return sum(_status(p, "VmHWM") for p in process_tree(pid)) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its children used so far."""
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")
