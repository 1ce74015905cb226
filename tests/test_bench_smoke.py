"""The benchmark helpers (bench/common.py and the modules it re-exports) and every benchmark work.

A tiny real run each, no timing assertions: every benchmark script in bench/
runs end to end here (fan-out, status page, burst, intake).

The benchmarks only run by hand (`make bench`); this keeps their plumbing
from rotting unnoticed: ports, a real server subprocess started and stopped,
the load generator, percentiles, memory of a process tree, RESULTS.md sections.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import pytest
from sqlalchemy import create_engine, make_url, text

from anshin.db import normalise_url

T = TypeVar("T")
BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load_common() -> ModuleType:
    if str(BENCH) not in sys.path:  # common re-exports procs, loadgen and host beside it
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_common", BENCH / "common.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


common = _load_common()


def _under_running_loop(call: Callable[[], T]) -> T:
    """Call with an event loop running in this thread (start one if none runs yet)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:

        async def main() -> T:
            return call()

        return asyncio.run(main())
    return call()


WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:40000/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.32ms    1.05ms  21.40ms   91.53%
    Req/Sec     5.08k   201.77     5.36k    80.00%
  Latency Distribution
     50%    6.10ms
     75%    6.43ms
     90%    7.02ms
     99%   10.57ms
  25284 requests in 5.01s, 180.32MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   5046.71
Transfer/sec:     35.99MB
"""


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert common.percentile(values, 50) == 50.0
    assert common.percentile(values, 99) == 99.0
    assert common.percentile(values, 100) == 100.0
    assert common.percentile([3.0, 1.0, 2.0], 0) == 1.0
    assert common.percentile([7.5], 99) == 7.5
    with pytest.raises(ValueError):
        common.percentile([], 50)
    with pytest.raises(ValueError):
        common.percentile([1.0], 101)


def test_parse_wrk_reads_rate_latency_and_errors() -> None:
    result = common.parse_wrk(WRK_OUTPUT)
    assert result.rps == 5046.71
    assert result.requests == 25284
    assert result.seconds == pytest.approx(5.01)
    assert result.p50_ms == pytest.approx(6.10)
    assert result.p99_ms == pytest.approx(10.57)
    assert result.errors == 4 + 3
    slow = WRK_OUTPUT.replace("99%   10.57ms", "99%    1.20s").replace(
        "50%    6.10ms", "50%  900.00us"
    )
    assert common.parse_wrk(slow).p99_ms == pytest.approx(1200.0)
    assert common.parse_wrk(slow).p50_ms == pytest.approx(0.9)
    with pytest.raises(ValueError):
        common.parse_wrk("wrk: connection refused")


def test_real_server_load_and_memory(tmp_path: Path) -> None:
    """Start a real HTTP server, drive it with the asyncio generator, read its RSS, stop it."""
    (tmp_path / "index.html").write_bytes("安心".encode() * 500)
    port = common.free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    argv += ["--directory", str(tmp_path)]
    log = tmp_path / "server.log"
    with common.running(argv, port=port, log=log, timeout=20) as proc:
        status, headers, body = common.http_get(port, "/index.html")
        assert status == 200
        assert body == "安心".encode() * 500
        assert int(headers["content-length"]) == len(body)
        assert common.http_get(port, "/missing")[0] == 404
        result = common.python_load(port, "/index.html", requests=40, connections=4)
        assert result.requests == 40
        assert result.errors == 0
        assert 0 < result.p50_ms <= result.p99_ms
        assert result.rps > 0
        missing = common.python_load(port, "/missing", requests=4, connections=2)
        assert missing.errors == 4

        def helpers() -> tuple[int, int]:
            status = common.http_get(port, "/index.html")[0]
            return status, common.python_load(port, "/index.html", requests=5).requests

        # Other plugins (Playwright) may leave an event loop running in this thread.
        assert _under_running_loop(helpers) == (200, 5)
        total, each = common.tree_rss_mib(proc.pid)
        assert proc.pid in common.process_tree(proc.pid)
        assert len(each) >= 1
        assert 1 < total < 1024
    assert proc.poll() is not None, "the server must be stopped after the block"
    with pytest.raises(OSError):
        common.http_get(port, "/", timeout=1)


def test_running_reports_a_server_that_dies(tmp_path: Path) -> None:
    port = common.free_port()
    argv = [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"]
    with (
        pytest.raises(RuntimeError, match="boom"),
        common.running(argv, port=port, log=tmp_path / "log", timeout=10),
    ):
        pass


def test_write_section_replaces_only_its_own_part(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nintro\n")
    common.write_section("alpha", "## Alpha\n\nfirst", results)
    common.write_section("beta", "## Beta\n\nb", results)
    common.write_section("alpha", "## Alpha\n\nsecond", results)
    text = results.read_text()
    assert "intro" in text
    assert "second" in text and "first" not in text
    assert text.count("<!-- bench:alpha begin -->") == 1
    assert text.index("## Alpha") < text.index("## Beta")


def test_markdown_table_and_machine() -> None:
    table = common.markdown_table(["name", "req/s"], [["a", 1234.5], ["b", 2.0]])
    lines = table.splitlines()
    assert lines[1] == "| --- | ---: |"
    assert lines[2] == "| a | 1,234.5 |"
    assert lines[3] == "| b | 2.00 |"
    info = common.machine()
    assert int(info["cpus"]) == os.cpu_count()
    assert info["ram"].endswith("GiB")


# --- the fan-out benchmark (bench/fanout.py) at a tiny scale ------------------------------


def _load_bench(name: str) -> ModuleType:
    """A bench module by its file name (bench/ is put on the path: they import each other)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _run_fanout(*extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(BENCH / "fanout.py"), "--emails", "200", "--webhooks", "5"]
    return subprocess.run(
        [*argv, "--timeout", "120", *extra], capture_output=True, text=True, timeout=240
    )


def test_fanout_runs_end_to_end_and_checks_every_copy() -> None:
    """Real workers, sink and baseline at 200 mails + 5 webhooks: every row exactly once."""
    done = _run_fanout("--workers", "2")
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = done.stdout
    assert "| 205 / 205 |" in report  # the product: every mail and webhook accepted
    assert "| 200 / 200 |" in report  # the baseline: every mail accepted
    rows = [line for line in report.splitlines() if line.startswith("| product:")]
    rows += [line for line in report.splitlines() if line.startswith("| baseline:")]
    assert len(rows) == 2
    assert all(line.rstrip().endswith("| yes |") for line in rows), rows
    assert "of the baseline" in report
    assert "Peak resident memory" in report


@pytest.mark.skipif(
    not (os.environ.get("ANSHIN_TEST_DATABASE_URL") and os.environ.get("ANSHIN_TEST_REDIS_URL")),
    reason="needs ANSHIN_TEST_DATABASE_URL and ANSHIN_TEST_REDIS_URL",
)
def test_fanout_on_postgresql_and_redis() -> None:
    """The scale-out path: a throwaway PostgreSQL database, the Redis queue, two processes."""
    url = os.environ["ANSHIN_TEST_DATABASE_URL"]
    done = _run_fanout(
        "--database-url",
        url,
        "--redis-url",
        os.environ["ANSHIN_TEST_REDIS_URL"],
        "--processes",
        "2",
        "--no-baseline",
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    assert "| 205 / 205 |" in done.stdout
    assert "PostgreSQL" in done.stdout and "Redis" in done.stdout


def test_fanout_copy_check_finds_lost_and_doubled_mail() -> None:
    """The exactly-once check must fail a run that lost or doubled anything."""
    report = _load_bench("fanout_report")
    good = {
        "mails": {f"user{i}@example.com": 1 for i in range(3)},
        "message_ids": 3,
        "hooks": {"/hook/0": 1},
        "idempotency_keys": 1,
        "signed": 1,
    }
    assert report.check_copies(good, 3, 1) == []
    lost = {**good, "mails": {"user0@example.com": 1, "user1@example.com": 1}, "message_ids": 2}
    assert "1 subscribers got nothing" in report.check_copies(lost, 3, 1)[0]
    doubled = {**good, "mails": {**good["mails"], "user2@example.com": 2}}
    assert "1 got more than one copy" in report.check_copies(doubled, 3, 1)[0]
    stranger = {**good, "mails": {**good["mails"], "other@example.com": 1}}
    assert "1 unknown recipients" in report.check_copies(stranger, 3, 1)[0]
    no_hook = {**good, "hooks": {}, "signed": 0}
    assert "webhooks: 1 got nothing" in report.check_copies(no_hook, 3, 1)[0]
    unsigned = {**good, "signed": 0}
    assert "signature" in report.check_copies(unsigned, 3, 1)[0]


# --- every benchmark, end to end at a tiny size ---------------------------------------------

# Each benchmark in bench/ (a script `make bench BENCHES=name` runs) and the test here
# that runs it end to end at a tiny size: a bench that stops working fails `make test`.
SMOKED = {
    "fanout": "test_fanout_runs_end_to_end_and_checks_every_copy",
    "statuspage": "test_statuspage_runs_end_to_end",
    "burst": "test_burst_runs_end_to_end",
    "lint_corpus": "test_lint_corpus_runs_end_to_end",
    "mail_in": "test_mail_in_runs_end_to_end",
    "intake": "test_intake_runs_end_to_end",
    "wake": "test_wake_runs_end_to_end",
    "triage": "test_triage_runs_end_to_end",
    "avoid": "test_avoid_runs_end_to_end",
    "search": "test_search_runs_end_to_end",
    "search_cap": "test_search_cap_compares_the_capped_ranking",
}
# Scripts the benchmarks start as processes of their own: not benchmarks themselves.
# build_triage_data and train_triage make the labelled set and the shipped weights.
HELPER_SCRIPTS = {
    "fanout_baseline",
    "fanout_sink",
    "burst_seed",
    "build_triage_data",
    "train_triage",
}
MAIN_GUARD = re.compile(r"^if __name__ == .__main__.:", re.M)


def test_every_benchmark_in_bench_is_run_here() -> None:
    scripts = {
        path.stem
        for path in BENCH.glob("*.py")
        if MAIN_GUARD.search(path.read_text(encoding="utf-8"))
    }
    assert scripts - HELPER_SCRIPTS == set(SMOKED), "add a tiny run of the new bench here"
    assert all(callable(globals()[name]) for name in SMOKED.values())


def _run_bench(script: str, *argv: str, timeout: int = 300, err: bool = False) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return done.stderr if err else done.stdout


def test_statuspage_runs_end_to_end() -> None:
    """Data through the services, the export, the app in a subprocess, bytes compared, a table.

    With nginx and wrk installed it runs exactly as `make bench` does, only shorter;
    without them the same files come from Python's http.server and the Python generator
    drives the load (the bench then says its figures are not of record).
    """
    argv = ["--configs", "outside", "--repeat", "1", "--duration", "1", "--warmup", "1"]
    if not (shutil.which("nginx") and shutil.which("wrk")):
        argv += ["--baseline", "python", "--load-generator", "python", "--requests", "100"]
    report = _run_bench("statuspage.py", *argv)
    app_rows = [
        line for line in report.splitlines() if line.startswith("| uvicorn") and "| `/" in line
    ]
    assert len(app_rows) == 2  # two paths
    assert all(line.rstrip().endswith("| 0 | yes |") for line in app_rows), app_rows
    assert "Best app configuration" in report


def _check_burst(report: str, backend: str) -> None:
    assert f"Database: {backend}." in report
    assert "| login | 401 × 4 |" in report
    assert "| subscribe | 200 × 4 |" in report
    assert "0 failed polls during the burst" in report
    assert "Burst / idle: p50 ×" in report


def test_burst_runs_end_to_end() -> None:
    """A real server, idle polling, then four wrong-password logins and four subscribes."""
    report = _run_bench("burst.py", "--logins", "4", "--subscribes", "4", "--idle-seconds", "0.5")
    _check_burst(report, "SQLite")


@pytest.mark.skipif(
    not os.environ.get("ANSHIN_TEST_DATABASE_URL"), reason="needs ANSHIN_TEST_DATABASE_URL"
)
def test_burst_on_postgresql() -> None:
    url = os.environ["ANSHIN_TEST_DATABASE_URL"]
    report = _run_bench(
        "burst.py",
        "--logins",
        "4",
        "--subscribes",
        "4",
        "--idle-seconds",
        "0.5",
        "--database-url",
        url,
    )
    _check_burst(report, "PostgreSQL")


def test_lint_corpus_runs_end_to_end() -> None:
    """The message check on the real corpus against the same commit: one timed pass each."""
    # It writes its report with Rich on stderr.
    report = _run_bench(
        "lint_corpus.py", "--repeat", "1", "--rounds", "1", "--ref", "HEAD", err=True
    )
    assert "Speed: checking all" in report
    assert "recall" in report
    assert "| ja-20000 | 20,000 |" in report


def test_mail_in_runs_end_to_end() -> None:
    """Real mails through a real listener beside the direct inserts: every one answered 250."""
    report = _run_bench("mail_in.py", "--mails", "9")
    assert "- 9 of 9 mails answered 250." in report
    assert report.count("| baseline") == 1 and "| `anshin mail-in` over SMTP" in report


def test_wake_runs_end_to_end() -> None:
    """Both ways of waking workers after 30 commits; coalescing queues fewer wake-ups."""
    report = _run_bench("wake.py", "--commits", "30")
    found = dict(
        re.findall(
            r"^(wake(?:_soon)? \(.+?\)): .*?(\d+) wake-ups queued for 30 commits$", report, re.M
        )
    )
    assert int(found["wake (one per commit)"]) == 30
    assert int(found["wake_soon (coalesced)"]) < 30


def _check_intake(report: str, backend: str) -> None:
    assert f"Database: {backend}." in report
    assert "| `POST /bench/baseline` | 20 |" in report
    assert "| `POST /api/inquiries` (product) | 20 |" in report
    assert "201 × 20 |" in report
    assert "Product / baseline throughput:" in report
    # Warm-up and rounds all stored: 2 + 2 × 10 of each; nine in ten leave an address.
    assert "product inquiries 22, baseline rows 22, acknowledgements 19, deliveries 19" in report


def test_intake_runs_end_to_end() -> None:
    """A real server, the baseline and the product endpoint, rows counted, a table."""
    argv = ("--requests", "10", "--rounds", "2", "--warmup", "2", "--connections", "2")
    _check_intake(_run_bench("intake.py", *argv), "SQLite")


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (.ci/run installs it)")
def test_intake_runs_end_to_end_with_wrk() -> None:
    """The wrk client: a Lua table of bodies, its done() figures read back, rows counted."""
    # Warm-up enough for the sentence encoder to be loaded before wrk's clock runs.
    argv = ("--client", "wrk", "--duration", "2", "--rounds", "1", "--warmup", "20")
    report = _run_bench("intake.py", *argv, "--connections", "2")
    assert "Load: `wrk -t1 -c2 -d2s`" in report
    rows = {
        name: re.search(rf"\| {re.escape(name)} \| ([\d,]+) \|.*\| 201 × ([\d,]+) \|", report)
        for name in ("`POST /bench/baseline`", "`POST /api/inquiries` (product)")
    }
    for found in rows.values():
        assert found is not None
        assert found.group(1).replace(",", "") == found.group(2).replace(",", "")
        assert int(found.group(1).replace(",", "")) > 0
    stored = re.search(r"product inquiries ([\d,]+)", report)
    assert stored is not None
    counted = rows["`POST /api/inquiries` (product)"]
    assert counted is not None
    # Every counted 201 is stored (plus the warm-up, plus what was in flight at the end).
    assert int(stored.group(1).replace(",", "")) >= int(counted.group(1).replace(",", "")) + 20


@pytest.mark.skipif(
    not os.environ.get("ANSHIN_TEST_DATABASE_URL"), reason="needs ANSHIN_TEST_DATABASE_URL"
)
def test_intake_on_postgresql() -> None:
    url = os.environ["ANSHIN_TEST_DATABASE_URL"]
    argv = ("--requests", "10", "--rounds", "2", "--warmup", "2", "--connections", "2")
    _check_intake(_run_bench("intake.py", *argv, "--database-url", url), "PostgreSQL")


def test_triage_runs_end_to_end() -> None:
    """`anshin triage` in both modes and the JSON baseline on the same 300 lines."""
    report = _run_bench("triage.py", "--lines", "300")
    rows = [line for line in report.splitlines() if line.startswith("| product:")]
    assert len(rows) == 2
    assert all("| 300 |" in row for row in rows)
    assert "| baseline: JSON parse + dump | 300 |" in report
    assert rows[1].rstrip().endswith("| 0.0% |")  # --encoder never consults no encoder


def test_avoid_runs_end_to_end() -> None:
    """The check with the pairs read per call beside the cached list, and through the app."""
    report = _run_bench("avoid.py", "--checks", "20", "--avoid", "5", "--articles", "50")
    assert "| baseline: `check()` with the pairs read once |" in report
    assert "| `POST /api/lint` as shipped (pairs read per call) |" in report
    assert "flagged by the next check: yes." in report


SEARCH_TINY = ("--articles", "60", "--inquiries", "300", "--queries", "12", "--rounds", "1")


def _check_search(report: str, backend: str) -> None:
    assert f"Database: {backend}, schema from the migrations." in report
    assert "| articles saved and indexed (service.save) |" in report
    assert "| product: search.search, articles | 12 |" in report
    assert "| product: search.search, all sources | 12 |" in report
    assert re.search(
        rf"Relevance \(tests/data/kb/, {backend}, no synonyms\): \d+ of \d+ customer-worded", report
    )
    assert "| bare: " in report  # the index's own query on the same data


def test_search_runs_end_to_end() -> None:
    """Articles through service.save, inquiries, the index, both ways timed, the relevance set."""
    _check_search(_run_bench("search.py", *SEARCH_TINY), "SQLite")


@pytest.mark.skipif(
    not os.environ.get("ANSHIN_TEST_DATABASE_URL"), reason="needs ANSHIN_TEST_DATABASE_URL"
)
def test_search_on_postgresql() -> None:
    url = os.environ["ANSHIN_TEST_DATABASE_URL"]
    _check_search(_run_bench("search.py", *SEARCH_TINY, "--database-url", url), "PostgreSQL")


@pytest.mark.skipif(
    not os.environ.get("ANSHIN_TEST_DATABASE_URL"), reason="needs ANSHIN_TEST_DATABASE_URL"
)
def test_search_cap_compares_the_capped_ranking() -> None:
    """search.py --keep builds a database, search_cap.py ranks it both ways, then it is dropped."""
    url = os.environ["ANSHIN_TEST_DATABASE_URL"]
    built = _run_bench("search.py", *SEARCH_TINY, "--database-url", url, "--keep", err=True)
    found = re.search(r"building into database (anshin_search_[0-9a-f]+)", built)
    assert found, built[-2000:]
    name = found.group(1)
    server = make_url(normalise_url(url))
    try:
        report = _run_bench(
            "search_cap.py", server.set(database=name).render_as_string(False), "--queries", "12"
        )
        assert "| uncapped (PG_PRESELECT = 0) |" in report
        # The reference agrees with itself on every query: 12 of 12 in top 1, 3 and 10.
        assert re.search(r"\| uncapped \(PG_PRESELECT = 0\) \|[^\n]*\| 12 \| 12 \| 12 \|", report)
        assert "| shipped (PG_PRESELECT = " in report
    finally:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
