"""``anshin triage [--format json] [FILE|-]``: triage JSON lines against the open incidents (§3).

Streaming: lines are read, triaged and printed in batches of ``BATCH``, so a
file of 100,000 lines never sits in memory; the lines the classifier is
unsure of share one sentence-encoder call per batch. A bad line (not JSON,
a missing text, an unknown tier …) is reported on stderr with its line
number and skipped; the rest are processed, and the exit code is 1 at the end
if any line was bad. A Rich progress bar runs on stderr for a file when
stderr is a terminal. ``--encoder never`` skips the sentence encoder (words
only: several times faster, a little less accurate — bench/RESULTS.md).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from anshin.cliutil import load_settings, open_session, t
from anshin.i18n import N_
from anshin.inputs import BadInput, printable
from anshin.inquiries import rules
from anshin.inquiries.service import TEXT_MAX
from anshin.inquiries.triage import Triager, open_profiles

BATCH = 256
FORMATS = ("json",)
ENCODER_MODES = ("auto", "never")


class LineError(Exception):
    """One input line that cannot be triaged: its message (msgid) and parameters."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


def parse_line(raw: str) -> tuple[Any, str, str]:
    """``(id, text, tier)`` from one JSON line, or a ``LineError`` saying what is wrong."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LineError(N_("not valid JSON ({reason})"), reason=exc.msg) from None
    if not isinstance(data, dict):
        raise LineError(N_("expected a JSON object"))
    line_id = data.get("id")
    if isinstance(line_id, bool) or not isinstance(line_id, str | int) or line_id == "":
        raise LineError(N_('"id" is missing or not a string or number'))
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise LineError(N_('"text" is missing or empty'))
    if len(text) > TEXT_MAX:
        raise LineError(N_('"text" is longer than {n} characters'), n=TEXT_MAX)
    tier = data.get("customer_tier", rules.Tier.STANDARD)
    if tier is None:
        tier = rules.Tier.STANDARD
    if tier not in tuple(rules.Tier):
        raise LineError(N_('"customer_tier" must be standard or important'))
    received = data.get("received_at")
    if received is not None:
        try:
            if not isinstance(received, str):
                raise ValueError(received)
            dt.datetime.fromisoformat(received)
        except ValueError:
            raise LineError(N_('"received_at" is not an ISO-8601 time')) from None
    return line_id, text, str(tier)


def _lines(stream: Iterable[bytes | str], progress: Any, task: Any) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines; a line that is not UTF-8 or holds a NUL comes as ``""``."""
    for number, raw in enumerate(stream, start=1):
        if progress is not None:
            progress.advance(task, len(raw))
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, ""
                continue
        if "\x00" in raw:
            yield number, ""
        elif raw.strip():
            yield number, raw


def triage_stream(
    triager: Triager,
    stream: Iterable[bytes | str],
    out: IO[str],
    err: IO[str],
    *,
    progress: Any = None,
    task: Any = None,
) -> tuple[int, int]:
    """Triage every line of ``stream`` onto ``out``; bad lines to ``err``. Returns (done, bad)."""
    done = bad = 0
    batch: list[tuple[Any, str, str]] = []

    def flush() -> None:
        nonlocal done
        results = triager.run([(text, tier) for _, text, tier in batch])
        for (line_id, _, _), result in zip(batch, results, strict=True):
            out.write(json.dumps(result.as_json(line_id), ensure_ascii=False) + "\n")
        done += len(batch)
        batch.clear()

    for number, raw in _lines(stream, progress, task):
        try:
            if not raw:
                raise LineError(N_("not UTF-8 text, or holds a NUL character"))
            batch.append(parse_line(raw))
        except LineError as exc:
            bad += 1
            message = t(exc.msgid, **exc.params)
            err.write(t(N_("Line {line}: {problem}."), line=number, problem=message) + "\n")
            continue
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return done, bad


HEAD_BYTES = 64 * 1024


def _open(path: str) -> tuple[IO[bytes], int | None]:
    """The input as bytes, and its size for the progress bar (None for stdin).

    A file whose first 64 KiB is not UTF-8 text or holds a NUL is refused
    whole (exit 2: it is not JSON lines at all); a bad line further in is
    reported by its number like any other bad line.
    """
    if path == "-":
        return sys.stdin.buffer, None
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed by the caller's with
        size = Path(path).stat().st_size
        head = handle.read(HEAD_BYTES)
        handle.seek(0)
    except (OSError, ValueError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BadInput(
            N_("Cannot read {path}: {reason}"), field="FILE", path=printable(path), reason=reason
        ) from None
    if b"\x00" in head or not _utf8_start(head):
        handle.close()
        raise BadInput(N_("{path} is not UTF-8 text."), field="FILE", path=printable(path))
    return handle, size


def _utf8_start(head: bytes) -> bool:
    """True when ``head`` is UTF-8, allowing a character cut where the head was cut."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = len(head) == HEAD_BYTES and exc.start >= len(head) - 3
        return cut and exc.reason == "unexpected end of data"
    return True


def register(app: typer.Typer) -> None:
    """Add ``anshin triage`` to the root command."""

    @app.command("triage")
    def triage_command(
        file: str = typer.Argument("-", help="JSON lines to triage ('-' or nothing: stdin)."),
        output_format: str = typer.Option("json", "--format", help="Output format: json."),
        encoder: str = typer.Option(
            "auto",
            "--encoder",
            help="auto: consult the sentence encoder on unsure lines; never: words only (faster).",
        ),
    ) -> None:
        """Triage inquiries (JSON lines) against the open incidents: one JSON line each."""
        if output_format not in FORMATS:
            raise typer.BadParameter("json", param_hint="--format")
        if encoder not in ENCODER_MODES:
            raise typer.BadParameter("auto, never", param_hint="--encoder")
        settings = load_settings()
        stream, size = _open(file)
        with open_session(settings) as session:
            profiles = open_profiles(session)
        triager = Triager(profiles, use_encoder=encoder == "auto")
        show = size is not None and sys.stderr.isatty()
        progress = (
            Progress(
                TextColumn(t(N_("Triage"))),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            if show
            else None
        )
        with stream, progress or nullcontext():
            task = progress.add_task("triage", total=size) if progress else None
            _, bad = triage_stream(
                triager, stream, sys.stdout, sys.stderr, progress=progress, task=task
            )
        if bad:
            raise typer.Exit(code=1)
