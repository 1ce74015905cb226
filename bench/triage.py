"""``anshin triage`` on many JSON lines: lines per second and peak memory, against a baseline.

    .venv/bin/python bench/triage.py                    # 100,000 lines
    .venv/bin/python bench/triage.py --lines 2000 --write

A temporary SQLite database gets the six open incidents the labelled set was
written against (bench/build_triage_data.py); the input cycles through the
labelled inquiries (tests/data/inquiries/) with fresh ids. Two processes run
on the same file, one after the other:

* product: ``anshin triage FILE`` — the real command, the code path users run;
* baseline: the same loop doing only what any line filter must (read a line,
  ``json.loads``, ``json.dumps`` to stdout).

Reported: wall time, lines per second, the ratio to the baseline, peak
resident memory of each process (``wait4`` rusage), and the share of lines
the sentence encoder was consulted on (read from the output's reasons).
Targets (issue 8 §9): at least 2,000 lines/s, under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from build_triage_data import INCIDENTS  # noqa: E402
from common import console, machine, markdown_table, today, write_section  # noqa: E402

COLUMNS = ("run", "lines", "seconds", "lines/s", "× baseline", "lines/CPU-s", "peak RSS MiB")
COLUMNS = (*COLUMNS, "CPU ms/line", "encoder")
DATA = ROOT / "tests" / "data" / "inquiries" / "inquiries.jsonl"
BASELINE = """
import json, sys
out = sys.stdout
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        row = json.loads(line)
        out.write(json.dumps({"id": row["id"], "text": row["text"]}, ensure_ascii=False) + "\\n")
"""


def seed(url: str) -> None:
    """Migrate and add the six incidents (components, one public update each) as open."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from anshin import migrations
    from anshin.db import make_engine
    from anshin.incidents.models import Component, Incident, IncidentComponent, IncidentUpdate

    migrations.upgrade(url, "head")
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(url)
    with Session(engine) as session:
        for n, profile in enumerate(INCIDENTS.values()):
            title_ja, _, title_en = profile["title"].partition(" / ")
            incident = Incident(
                reference=profile["reference"],
                title=title_ja,
                title_en=title_en or None,
                summary=profile["summary"],
                severity="sev2",
                status="investigating",
                started_at=now,
                detected_at=now,
                declared_at=now,
                workaround=profile["workaround"] or None,
                created_by="bench",
            )
            incident.components = [
                IncidentComponent(component=Component(name=f"{name} #{n}"), impact="major_outage")
                for name in profile["components"]
            ]
            ja, en = profile["updates"]
            incident.updates = [
                IncidentUpdate(status="investigating", body_ja=ja, body_en=en, author="bench")
            ]
            session.add(incident)
        session.commit()
    engine.dispose()


def write_input(path: Path, lines: int, *, distinct: bool = False) -> None:
    """The input file: the labelled texts in turn; with ``distinct`` each one made unique.

    The labelled set has 325 texts, so a plain cycle repeats each ~300 times
    in 100,000 lines and triage answers repeats from memory. ``distinct``
    appends the line's number (`` #123``) so every text is new: the worst
    case, where nothing is remembered.
    """
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            row = rows[i % len(rows)]
            text = f"{row['text']} #{i}" if distinct else row["text"]
            item = {"id": f"b{i}", "text": text, "customer_tier": row["customer_tier"]}
            out.write(json.dumps(item, ensure_ascii=False) + "\n")


def timed(argv: list[str], out: Path, env: dict[str, str]) -> tuple[float, float, int, float]:
    """Run a process to its end: (seconds, peak RSS in MiB, exit code, CPU seconds).

    CPU seconds (user + system) say what the work costs when other processes
    share the machine and stretch the wall time.
    """
    start = time.perf_counter()
    with out.open("w") as sink:
        proc = subprocess.Popen(argv, stdout=sink, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def read_shares(path: Path, lines: int) -> tuple[float, float]:
    """(encoder share, linked share) of the output, read line by line.

    Never the whole output in memory: a child's peak RSS counts the memory of
    this process at the moment it was forked.
    """
    count = used = linked = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            count += 1
            used += "sentence encoder consulted" in row["reasons"]
            linked += row["incident"] is not None
    assert count == lines, (count, lines)
    return used / lines, linked / lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="replace the section in RESULTS.md")
    parser.add_argument(
        "--distinct", action="store_true", help="every text unique (nothing answered from memory)"
    )
    parser.add_argument("--modes", nargs="+", default=["auto", "never"], choices=["auto", "never"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        seed(url)
        source = folder / "in.jsonl"
        load_before = os.getloadavg()[0]
        write_input(source, args.lines, distinct=args.distinct)
        env = {**os.environ, "ANSHIN_DATABASE_URL": url}
        product_out, baseline_out = folder / "product.jsonl", folder / "baseline.jsonl"
        console.print(f"triage: {args.lines:,} lines …")
        runs: dict[str, tuple[float, float, int, float]] = {}
        shares: dict[str, tuple[float, float]] = {}
        for mode in args.modes:
            console.print(f"  anshin triage --encoder {mode}")
            cmd = [sys.executable, "-m", "anshin.cli", "triage", "--encoder", mode, str(source)]
            runs[mode] = timed(cmd, product_out, env)
            if runs[mode][2] != 0:
                raise SystemExit(f"anshin triage --encoder {mode} exited {runs[mode][2]}")
            shares[mode] = read_shares(product_out, args.lines)
        console.print("  baseline")
        baseline = timed([sys.executable, "-c", BASELINE, str(source)], baseline_out, env)
        if baseline[2] != 0:
            raise SystemExit(f"the baseline exited {baseline[2]}")
    base_rate = args.lines / baseline[0]
    rows = []
    for mode, (seconds, rss, _, cpu) in runs.items():
        rate = args.lines / seconds
        used = shares[mode][0]
        name = f"product: anshin triage --encoder {mode}"
        row = [name, args.lines, seconds, rate, rate / base_rate, args.lines / cpu, rss]
        row.append(f"{1000 * cpu / args.lines:.3f}")
        rows.append([*row, f"{used:.1%}"])
    base = ["baseline: JSON parse + dump", args.lines, baseline[0], base_rate, 1.0]
    per_line = f"{1000 * baseline[3] / args.lines:.3f}"
    rows.append([*base, args.lines / baseline[3], baseline[1], per_line, "-"])
    info = machine()
    body = "\n".join(
        [
            "## Triage: `anshin triage` on JSON lines (issue 8 §9)",
            "",
            f"Measured {today()} on {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM.",
            f"Command: `.venv/bin/python bench/triage.py --lines {args.lines} "
            f"--modes {' '.join(args.modes)}{' --distinct' if args.distinct else ''}` "
            f"(1-minute load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} at the end: the machine was shared). Input: "
            + (
                "every text unique (the labelled texts, each with its line number appended)."
                if args.distinct
                else "the 325 labelled texts in turn (each repeated; repeats are answered "
                "from memory)."
            ),
            "",
            markdown_table(
                [*COLUMNS],
                rows,
            ),
            "",
            "encoder: share of lines the sentence encoder was consulted on (batched per 256 "
            "lines). Targets: ≥ 2,000 lines/s, < 500 MB.",
        ]
    )
    print(body)
    if args.write:
        write_section("triage-distinct" if args.distinct else "triage", body)


if __name__ == "__main__":
    main()
