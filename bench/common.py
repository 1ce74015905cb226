"""Shared helpers for anshin's benchmarks (issue 2, scope 10).

Every benchmark needs the same plumbing: a free loopback port, a server in a
real subprocess that is started, waited for and always stopped, a load
generator, percentiles, the resident memory of a process tree, the machine it
ran on, and a section of bench/RESULTS.md to write. They live in small modules
(``procs``: servers and memory; ``loadgen``: wrk, the asyncio generator and
percentiles; ``host``: the machine and its packages) and are all importable from
here, so each benchmark script is only about what it measures. This module
itself keeps the progress display and RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from host import console, ensure_debian_packages, load_average, machine, wait_until_idle
from loadgen import LoadResult, parse_wrk, percentile, python_load, wrk
from procs import (
    LOOPBACK,
    Popen,
    free_port,
    http_get,
    process_tree,
    rss_kib,
    running,
    stop,
    tree_rss_mib,
    wait_http,
)

__all__ = [
    "LOOPBACK",
    "RESULTS",
    "LoadResult",
    "Popen",
    "console",
    "ensure_debian_packages",
    "free_port",
    "http_get",
    "load_average",
    "machine",
    "markdown_table",
    "parse_wrk",
    "percentile",
    "process_tree",
    "progress",
    "python_load",
    "rss_kib",
    "running",
    "stop",
    "today",
    "tree_rss_mib",
    "wait_http",
    "wait_until_idle",
    "write_section",
    "wrk",
]

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


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
