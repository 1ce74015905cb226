"""Status page benchmark: the app against nginx serving the same bytes (issue 2, scope 10).

During an active incident the public page and ``/api/v2/summary.json`` take
the surge. The design serves them from stored artefacts, so the app should
come close to a static file server. This script measures that on loopback:

1. installs nginx and wrk from Debian when missing;
2. builds a temporary SQLite database with components, an active sev1
   incident with several bilingual updates and a resolved one, through the
   real services (which publish the status page);
3. exports the published page as static files and serves them with nginx;
4. starts the app in real subprocesses under several serve configurations a
   deployer could use, checks each serves byte-identical bodies, measures its
   idle resident memory, then drives ``/`` and ``/api/v2/summary.json`` with
   wrk (fixed duration and connection count);
5. prints a markdown table; ``--write`` replaces its section of
   bench/RESULTS.md with the figures, the machine and the command.

Targets: app throughput >= 50% of nginx's, p99 < 50 ms, idle RSS < 150 MB.
Every request goes to 127.0.0.1. ``--baseline python --load-generator python``
needs neither nginx nor wrk: a functional run (what the smoke test in
tests/test_bench_smoke.py does where they are missing), not figures of record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rich.progress import Progress, TaskID

from common import (
    LoadResult,
    console,
    ensure_debian_packages,
    free_port,
    http_get,
    load_average,
    machine,
    markdown_table,
    progress,
    python_load,
    running,
    today,
    tree_rss_mib,
    wait_until_idle,
    write_section,
    wrk,
)

PATHS = ("/", "/api/v2/summary.json")
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 150.0
ACTOR = "bench"
SECRET = "bench-secret-not-for-production"


@dataclass(frozen=True)
class AppConfig:
    """One way a deployer can serve the app; ``argv`` gets ``{port}`` filled in."""

    key: str
    label: str
    argv: tuple[str, ...]


def _bin(name: str) -> str:
    """A console script of the interpreter running the bench (the project's venv)."""
    return str(Path(sys.executable).parent / name)


UVICORN: tuple[str, ...] = (
    *(sys.executable, "-m", "uvicorn", "anshin.app:create_app", "--factory"),
    *("--host", "127.0.0.1", "--port", "{port}"),
)
# The placement docs/status-page.md recommends: the fast path around the whole app.
FAST_PATH: tuple[str, ...] = (
    *(sys.executable, "-m", "uvicorn", "statuspage:fast_path_app", "--factory"),
    *("--app-dir", str(Path(__file__).resolve().parent)),
    *("--host", "127.0.0.1", "--port", "{port}"),
)


def fast_path_app() -> Any:
    """uvicorn factory: ``StatusPageFastPath(create_app())``, settings from the environment."""
    from anshin.app import create_app
    from anshin.statuspage.views import StatusPageFastPath

    return StatusPageFastPath(create_app())


CONFIGS: tuple[AppConfig, ...] = (
    AppConfig(
        "serve",
        "`anshin serve` (what `make run` starts: 1 process, access log on)",
        (_bin("anshin"), "serve", "--host", "127.0.0.1", "--port", "{port}"),
    ),
    AppConfig(
        "h11",
        "uvicorn, pure-Python h11 + asyncio, 1 worker, no access log",
        (*UVICORN, "--http", "h11", "--loop", "asyncio", "--no-access-log"),
    ),
    AppConfig(
        "log",
        "uvicorn, httptools + uvloop, 1 worker, access log on (uvicorn's default)",
        (*UVICORN, "--http", "httptools", "--loop", "uvloop"),
    ),
    AppConfig(
        "uvloop",
        "uvicorn, httptools + uvloop, 1 worker, no access log",
        (*UVICORN, "--http", "httptools", "--loop", "uvloop", "--no-access-log"),
    ),
    AppConfig(
        "uvloop2",
        "uvicorn, httptools + uvloop, 2 workers, no access log",
        (*UVICORN, "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--workers", "2"),
    ),
    AppConfig(
        "outside",
        "uvicorn, httptools + uvloop, 1 worker, no access log, `StatusPageFastPath` around the app",
        (*FAST_PATH, "--http", "httptools", "--loop", "uvloop", "--no-access-log"),
    ),
    AppConfig(
        "outside2",
        "uvicorn, httptools + uvloop, 2 workers, no access log, "
        "`StatusPageFastPath` around the app",
        (
            *FAST_PATH,
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--workers",
            "2",
        ),
    ),
)


@dataclass
class Row:
    """The measurements of one server configuration."""

    server: str
    label: str
    rss_total: float = 0.0
    rss_each: list[float] = field(default_factory=list)
    loads: dict[str, LoadResult] = field(default_factory=dict)
    identical: dict[str, bool] = field(default_factory=dict)
    spread: dict[str, tuple[float, float]] = field(default_factory=dict)
    failure: str | None = None


# --- data ---------------------------------------------------------------------------------

# Texts a support team would publish: each apologises and names the next update (the
# message check refuses a public notice that does not; tests/notice_texts.py).
NEXT_JA = "次回は30分後までにお知らせいたします。"
NEXT_EN = "We will post the next update within 30 minutes."
UPDATES: tuple[tuple[str, str, str], ...] = (
    (
        "investigating",
        "現在、一部のお客様がクレジットカード決済を完了できない事象が発生しております。"
        "ご不便をおかけし、誠に申し訳ございません。原因は現在確認中です。" + NEXT_JA,
        "Some customers cannot complete card payments. We are sorry for the inconvenience. "
        "We are investigating the cause. " + NEXT_EN,
    ),
    (
        "investigating",
        "引き続き原因を調査しております。決済をお急ぎのお客様は、請求書払いをご利用いただけます。"
        "ご不便をおかけし、誠に申し訳ございません。" + NEXT_JA,
        "We are still investigating. If your payment is urgent, invoice payment works. "
        "We are sorry for the inconvenience. " + NEXT_EN,
    ),
    (
        "identified",
        "決済代行会社との接続部分で応答の遅延が発生していることを確認いたしました。"
        "復旧に向けた対応を進めております。ご不便をおかけし、誠に申し訳ございません。" + NEXT_JA,
        "We found slow responses in the connection to our payment provider and are "
        "working on recovery. We are sorry for the inconvenience. " + NEXT_EN,
    ),
    (
        "identified",
        "接続先の切り替え作業を行っております。ご不便をおかけし、誠に申し訳ございません。"
        + NEXT_JA,
        "We are switching the connection to another route. We are sorry for the "
        "inconvenience. " + NEXT_EN,
    ),
    (
        "monitoring",
        "切り替えが完了し、決済が順次成功するようになっております。引き続き経過を観察いたします。"
        "ご不便をおかけし、誠に申し訳ございません。" + NEXT_JA,
        "The switch is complete and payments are succeeding again. We are monitoring. "
        "We are sorry for the inconvenience. " + NEXT_EN,
    ),
    (
        "monitoring",
        "一部のお客様で決済の再試行が必要な場合がございます。お手数をおかけし申し訳ございません。"
        + NEXT_JA,
        "Some customers may need to retry a payment. We are sorry for the extra step. " + NEXT_EN,
    ),
)
OLD_FIRST_NOTICE = (
    "レポートの表示に時間がかかっております。ご不便をおかけし、誠に申し訳ございません。" + NEXT_JA,
    "Reports are slow to load. We are sorry for the inconvenience. " + NEXT_EN,
)
OLD_RESOLUTION = (
    "レポートの表示は復旧いたしました。ご不便をおかけし、誠に申し訳ございませんでした。",
    "Reports load normally again. We are sorry for the inconvenience this caused.",
)


def load_data(url: str) -> None:
    """Components, an active sev1 incident with updates, a resolved one: via the services."""
    from anshin import migrations
    from anshin.config import Settings
    from anshin.db import make_engine, make_sessionmaker, utcnow
    from anshin.incidents import components
    from anshin.incidents import service as incidents
    from anshin.statuspage import service as statuspage

    migrations.upgrade(url)
    settings = Settings(database_url=url, secret_key=SECRET)
    engine = make_engine(url)
    now = utcnow()
    with make_sessionmaker(engine)() as session:
        groups = {
            "決済": ("クレジットカード決済", "請求書払い", "コンビニ払い"),
            "ログイン/認証": ("ログイン", "二段階認証"),
            "API": ("REST API", "Webhook 送信"),
            "管理画面": ("ダッシュボード", "レポート"),
            "メール配信": ("通知メール",),
        }
        for group, names in groups.items():
            for name in names:
                components.add_component(session, name, group=group, actor=ACTOR)
        old_start = now - dt.timedelta(days=6)
        old = incidents.declare(
            session,
            settings,
            incidents.IncidentInput(
                title="管理画面のレポート表示に時間がかかる事象",
                title_en="Slow reports in the admin console",
                severity="sev3",
                components=["レポート"],
            ),
            actor=ACTOR,
            now=old_start,
        )
        incidents.publish_update(
            session,
            settings,
            old,
            body_ja=OLD_FIRST_NOTICE[0],
            body_en=OLD_FIRST_NOTICE[1],
            actor=ACTOR,
            now=old_start + dt.timedelta(minutes=5),
        )
        incidents.resolve(
            session,
            settings,
            old,
            body_ja=OLD_RESOLUTION[0],
            body_en=OLD_RESOLUTION[1],
            actor=ACTOR,
            now=old_start + dt.timedelta(hours=2),
        )
        start = now - dt.timedelta(minutes=30 * len(UPDATES) + 5)
        active = incidents.declare(
            session,
            settings,
            incidents.IncidentInput(
                title="一部のお客様がクレジットカード決済を完了できない事象",
                title_en="Some customers cannot complete card payments",
                summary="クレジットカード決済の一部が失敗しております。",
                summary_en="Some card payments fail.",
                severity="sev1",
                components=["クレジットカード決済", "Webhook 送信"],
                estimated_affected_customers=1200,
                workaround="請求書払いをご利用いただけます。",
                workaround_en="Invoice payment works.",
            ),
            actor=ACTOR,
            now=start,
        )
        for i, (status, ja, en) in enumerate(UPDATES):
            incidents.publish_update(
                session,
                settings,
                active,
                body_ja=ja,
                body_en=en,
                status=status,
                actor=ACTOR,
                now=start + dt.timedelta(minutes=30 * i + 2),
            )
        # The updates carry past times; the app republishes a page older than ten
        # minutes on its first request, so publish now to give both servers the same bytes.
        statuspage.publish(session, settings)
        session.commit()
    engine.dispose()


def export_static(url: str, directory: Path) -> list[Path]:
    """The published artefacts as static files, exactly as a deployer exports them."""
    from anshin.config import Settings
    from anshin.db import make_engine, make_sessionmaker
    from anshin.statuspage import service as statuspage

    settings = Settings(database_url=url, secret_key=SECRET)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        written = statuspage.export(session, settings, directory)
        session.commit()
    engine.dispose()
    return [Path(p) for p in written]


# --- servers ----------------------------------------------------------------------------


# (key, label, worker_processes): the faster of the two on each path is the baseline.
NGINX: tuple[tuple[str, str, str], ...] = (
    ("nginx", "nginx, `worker_processes auto`", "auto"),
    ("nginx1", "nginx, `worker_processes 1`", "1"),
)
# ``--baseline python`` (a machine without nginx, the smoke test): the same files from
# Python's http.server. Its figures prove the run works end to end, nothing more.
PYTHON_STATIC = ("static", "Python `http.server` (no nginx: a functional run, not a baseline)")
BASELINE_KEYS = {key for key, _label, _workers in NGINX} | {PYTHON_STATIC[0]}


def nginx_conf(work: Path, root: Path, port: int, workers: str) -> Path:
    """A self-contained nginx config: static files only, logs off, as a CDN edge would."""
    temp = work / "nginx-temp"
    temp.mkdir(exist_ok=True)
    conf = work / f"nginx-{workers}.conf"
    conf.write_text(
        f"""worker_processes {workers};
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
        location / {{ try_files $uri $uri/ $uri.html =404; }}
    }}
}}
"""
    )
    return conf


def static_server(work: Path, root: Path, key: str, workers: str, port: int) -> list[str]:
    """The command serving the exported files on ``port``: nginx, or Python's http.server."""
    if key == PYTHON_STATIC[0]:
        # "/" gets index.html, as nginx's ``index`` gives it.
        argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
        return [*argv, "--directory", str(root)]
    conf = nginx_conf(work, root, port, workers)
    return ["nginx", "-p", str(work), "-e", str(work / "nginx-error.log"), "-c", str(conf)]


def fetch_bodies(port: int) -> dict[str, bytes]:
    """One GET per path: the bodies to compare, refusing anything but 200."""
    bodies = {}
    for path in PATHS:
        status, _headers, body = http_get(port, path)
        if status != 200:
            raise RuntimeError(f"GET {path} on port {port} answered {status}: {body[:300]!r}")
        bodies[path] = body
    return bodies


def measure(
    row: Row,
    port: int,
    pid: int,
    reference: dict[str, bytes] | None,
    args: argparse.Namespace,
    bar: Progress,
) -> None:
    """Idle memory after one request per path, then a warm-up and timed wrk runs per path.

    Each path is driven ``--repeat`` times and the median run (by requests per
    second) is kept: other work on a small machine makes single runs jumpy.
    """
    bodies = fetch_bodies(port)
    time.sleep(0.3)
    row.rss_total, row.rss_each = tree_rss_mib(pid)
    for path in PATHS:
        row.identical[path] = reference is None or bodies[path] == reference[path]
        drive(port, path, args, warmup=True)
        task = bar.add_task(f"  {row.server} {path}", total=float(args.repeat))
        runs = []
        for i in range(args.repeat):
            runs.append(drive(port, path, args, tick=partial(_advance, bar, task, i)))
        runs.sort(key=lambda r: r.rps)
        row.loads[path] = runs[len(runs) // 2]
        row.spread[path] = (runs[0].rps, runs[-1].rps)


def drive(
    port: int,
    path: str,
    args: argparse.Namespace,
    *,
    warmup: bool = False,
    tick: Callable[[float], None] | None = None,
) -> LoadResult:
    """One load run with the chosen generator: wrk for a duration, or Python for a count."""
    if args.load_generator == "python":
        count = max(10, args.requests // 4) if warmup else args.requests
        result = python_load(port, path, requests=count, connections=args.connections)
        if tick:
            tick(1.0)
        return result
    duration = args.warmup if warmup else args.duration
    return wrk(port, path, duration=duration, connections=args.connections, tick=tick)


def _advance(bar: Progress, task: TaskID, done: int, fraction: float) -> None:
    bar.update(task, completed=done + fraction)


# --- report ---------------------------------------------------------------------------


def ratio(row: Row, base: dict[str, float], path: str) -> float:
    return row.loads[path].rps / base[path]


def report(rows: list[Row], args: argparse.Namespace, command: str) -> str:
    """The markdown section: setup, throughput and latency, memory, verdict."""
    measured = [r for r in rows if r.failure is None]
    nginx = [r for r in measured if r.server in BASELINE_KEYS]
    apps = [r for r in measured if r not in nginx]
    # The baseline is nginx at its best on this machine, per path.
    base = {p: max(r.loads[p].rps for r in nginx) for p in PATHS}
    table = []
    for row in measured:
        for path in PATHS:
            load = row.loads[path]
            share = f"{ratio(row, base, path):.0%}"
            same = "-" if row is rows[0] else ("yes" if row.identical[path] else "**NO**")
            low, high = row.spread[path]
            cells = [row.label, f"`{path}`", load.rps, f"{low:,.0f}–{high:,.0f}"]
            table.append([*cells, load.p50_ms, load.p99_ms, share, load.errors, same])
    memory = [[r.label, r.rss_total, " + ".join(f"{m:.0f}" for m in r.rss_each)] for r in measured]
    info = machine()
    busy = args.load_before > 1.0  # the bench itself drives it to about 2
    lines = [
        "## Status page: app against nginx serving the same bytes",
        "",
        f"Measured {today()} with `{command}`.",
        "",
    ]
    if args.baseline != "nginx" or args.load_generator != "wrk":
        lines += [
            "**A functional run (Python's generator or http.server in place of wrk or "
            "nginx): the figures below are not comparable and no verdict holds.**",
            "",
        ]
    lines += [
        f"Machine: {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM, "
        f"Linux {info['kernel']}, Python {info['python']}. 1-minute load average "
        f"{args.load_before:.2f} before the run"
        + (" (other work was running on the machine: every figure is lower)." if busy else "."),
        "",
        f"Load: `wrk -t1 -c{args.connections} -d{args.duration:g}s --latency` on 127.0.0.1, "
        f"{args.repeat} runs per path after a {args.warmup:g} s warm-up; the table shows the "
        "median run (by req/s; its p50 and p99) and the range over the runs. wrk shares the "
        f"{info['cpus']} CPUs with the server under test; nothing is pinned. Data: 10 "
        f"components, an active sev1 incident with {len(UPDATES)} bilingual updates, one "
        "resolved incident; SQLite. nginx: access log off, sendfile, serving the files "
        "`statuspage.service.export` wrote; every other server's bodies were compared byte "
        "for byte with those. 'vs best nginx' divides by the faster nginx configuration on each "
        "path (with wrk on one of the two CPUs, one nginx worker often beats two).",
        "",
        markdown_table(
            [
                "server",
                "path",
                "req/s",
                "req/s range",
                "p50 ms",
                "p99 ms",
                "vs best nginx",
                "errors",
                "same bytes",
            ],
            table,
        ),
        "",
        "Idle resident memory (VmRSS after start-up and one request per path):",
        "",
        markdown_table(["server", "total MiB", "per process MiB"], memory),
        "",
    ]
    for row in rows:
        if row.failure is not None:
            lines.append(f"- **{row.label} did not run**: {row.failure}")
    if not apps:
        lines.append("- No app configuration could be measured.")
        return "\n".join(lines)
    best = max(apps, key=lambda r: min(ratio(r, base, p) for p in PATHS))
    best_ratio = min(ratio(best, base, p) for p in PATHS)
    best_p99 = max(best.loads[p].p99_ms for p in PATHS)
    single = [r for r in apps if len(r.rss_each) == 1]
    idle = min((r.rss_total for r in single), default=best.rss_total)
    ok = "met" if best_ratio >= TARGET_RATIO else "**missed**"
    ok_p99 = "met" if best_p99 < TARGET_P99_MS else "**missed**"
    ok_rss = "met" if idle < TARGET_RSS_MB else "**missed**"
    ok_best_rss = "under" if best.rss_total < TARGET_RSS_MB else "over"
    lines += [
        f"- Best app configuration: {best.label}.",
        f"- Throughput: {best_ratio:.0%} of nginx on the slower of the two paths "
        f"(target >= {TARGET_RATIO:.0%}): {ok}.",
        f"- p99 latency of that configuration: {best_p99:.1f} ms on the slower path "
        f"(target < {TARGET_P99_MS:.0f} ms): {ok_p99}.",
        f"- Idle resident memory of one app process: {idle:.0f} MiB "
        f"(target < {TARGET_RSS_MB:.0f} MB): {ok_rss}; the best configuration's whole "
        f"process tree: {best.rss_total:.0f} MiB ({ok_best_rss} the target).",
    ]
    if not all(all(r.identical.values()) for r in measured):
        lines.append("- **The app and nginx served different bytes on some path (see table).**")
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per load run")
    parser.add_argument("--repeat", type=int, default=3, help="load runs per path (median kept)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--configs",
        default=",".join(c.key for c in CONFIGS),
        help=f"app configurations to run, comma-separated: {', '.join(c.key for c in CONFIGS)}",
    )
    parser.add_argument(
        "--load-generator",
        choices=("wrk", "python"),
        default="wrk",
        help="wrk (the figures of record) or the Python generator (no wrk needed)",
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per run with --load-generator python"
    )
    parser.add_argument(
        "--baseline",
        choices=("nginx", "python"),
        default="nginx",
        help="what serves the exported files: nginx, or Python's http.server (no nginx needed)",
    )
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for the 1-minute load average to fall below 1",
    )
    args = parser.parse_args(argv)
    wanted = [c for c in CONFIGS if c.key in args.configs.split(",")]
    if not wanted:
        parser.error("no known configuration in --configs")
    if args.write and (args.baseline != "nginx" or args.load_generator != "wrk"):
        parser.error("--write records figures of record only: wrk against nginx")

    needed: dict[str, tuple[str, ...]] = {}
    if args.baseline == "nginx":
        needed["nginx"] = ("nginx-light", "nginx")
    if args.load_generator == "wrk":
        needed["wrk"] = ("wrk",)
    ensure_debian_packages(needed)
    command = "python bench/statuspage.py " + " ".join(
        shlex.quote(a) for a in (argv or sys.argv[1:])
    )
    if args.wait_idle:
        wait_until_idle(1.0, args.wait_idle)
    args.load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="anshin-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx workers run as an unprivileged user when started as root
        url = f"sqlite:///{work / 'status.db'}"
        console.print("loading an active incident through the services…")
        load_data(url)
        export = work / "export"
        written = export_static(url, export)
        for path in [export, *export.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        console.print(f"exported {len(written)} files to {export}")

        rows: list[Row] = []
        env = {"ANSHIN_DATABASE_URL": url, "ANSHIN_SECRET_KEY": SECRET}
        with progress() as bar:
            baselines = NGINX if args.baseline == "nginx" else ((*PYTHON_STATIC, ""),)
            overall = bar.add_task("servers", total=len(baselines) + len(wanted))
            reference: dict[str, bytes] | None = None
            for key, label, workers in baselines:
                port = free_port()
                cmd = static_server(work, export, key, workers, port)
                with running(cmd, port=port, log=work / f"{key}.log") as proc:
                    row = Row(key, label)
                    measure(row, port, proc.pid, reference, args, bar)
                    reference = reference or fetch_bodies(port)
                rows.append(row)
                bar.advance(overall)
            for config in wanted:
                port = free_port()
                cmd = [a.format(port=port) for a in config.argv]
                log = work / f"app-{config.key}.log"
                row = Row(config.key, config.label)
                try:
                    with running(
                        cmd, port=port, env=env, log=log, ready_path="/api/v2/status.json"
                    ) as p:
                        measure(row, port, p.pid, reference, args, bar)
                except RuntimeError as exc:  # report it, measure the other configurations
                    row.failure = str(exc).strip().splitlines()[-1][:300]
                    console.print(f"[red]{config.key} failed:[/red] {exc}")
                rows.append(row)
                bar.advance(overall)

    section = report(rows, args, command)
    print(section)
    if args.write:
        write_section("statuspage", section + "\n\n" + RECOMMENDATION)
        console.print("bench/RESULTS.md updated")
    return 0


RECOMMENDATION = """### Recommended serve settings

- In a surge, serve the status page from the static export: set
  `ANSHIN_STATUS_EXPORT_DIR` and let nginx (or a CDN) serve those files, the app
  being the origin for everything else (the nginx site: docs/status-page.md).
- Run the app with uvicorn's httptools + uvloop (installed by `uvicorn[standard]`
  and picked by default), `StatusPageFastPath` wrapped around the app from
  outside, the access log off when a proxy in front logs, one worker per CPU
  not needed by other work (about 80 MiB each). With a factory returning
  `StatusPageFastPath(create_app())`:
  `uvicorn MODULE:FACTORY --factory --no-access-log --workers N`.
- Why the app cannot pass nginx by much on 2 CPUs, and what was measured
  besides: docs/decisions/0003-serving-the-status-page.md."""


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
