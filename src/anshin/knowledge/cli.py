"""``anshin kb …``: the knowledge base from the command line (R17; docs/knowledge-io.md).

``import`` and ``export`` move articles between the database and a folder of
Markdown files or a JSON lines file; ``search`` asks the same search the
console does; ``synonyms`` reads and writes the synonym list; ``starter``
loads the shipped starter list. Exit codes follow ``anshin.cliutil``: 0 done;
2 bad input (a file with problems — every problem printed with its file and
line, nothing saved —, an empty or too long query, a path that does not
exist); 1 the database refused.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)
from rich.table import Table

from anshin.cliutil import (
    actor,
    check_format,
    console,
    count,
    load_settings,
    open_session,
    print_json,
    t,
)
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import BadInput, printable
from anshin.knowledge import exchange, io, rules, search, service

kb_app = typer.Typer(
    help="The knowledge base: import, export, search, synonyms, the starter list.",
    no_args_is_help=True,
)
SNIPPET_SHOWN = 60  # characters of the snippet in the table (the JSON has all of it)
synonyms_app = typer.Typer(help="The synonym list search uses (one group per line).")
kb_app.add_typer(synonyms_app, name="synonyms")


def _bar() -> Progress:
    """A progress bar on a terminal; nothing at all when the output goes to a file or a script."""
    out = console()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )


def _refused(exc: io.ImportRefused) -> typer.Exit:
    """Every problem on its own line (file:line: reason), then what happened: nothing."""
    for problem in exc.problems[: io.PROBLEMS_SHOWN]:
        reason = t(problem.msgid, **problem.params)
        typer.echo(printable(f"{problem.path}:{problem.line}: {reason}"), err=True)
    hidden = len(exc.problems) - io.PROBLEMS_SHOWN
    if hidden > 0:
        typer.echo(t(N_("… and {n} more problems."), n=hidden), err=True)
    typer.echo(t(exc.msgid, **exc.params), err=True)
    return typer.Exit(code=2)


@kb_app.command("import")
def import_command(
    path: Path = typer.Argument(
        ..., help="A folder of Markdown files with front matter, a .md file, or a .jsonl file."
    ),
    check: bool = typer.Option(
        False,
        "--check",
        help="Only check the files, without a database (for CI on a knowledge repository).",
    ),
) -> None:
    """Create or update articles by key; a changed article gets a new version, nothing else does.

    Everything is checked first: one problem anywhere and nothing is saved.
    """
    try:
        with _bar() as bar:
            checking = bar.add_task(t(N_("Checking the files")), total=None)
            items = io.read_path(
                path, lambda done, total: bar.update(checking, completed=done, total=total)
            )
    except io.ImportRefused as exc:
        raise _refused(exc) from None
    if check:
        typer.echo(t(N_("{n} articles checked: no problems."), n=len(items)))
        return
    settings = load_settings()
    with open_session(settings) as session, _bar() as bar:
        task = bar.add_task(t(N_("Importing articles")), total=len(items))
        report = exchange.import_items(
            session,
            items,
            actor=actor(),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        session.commit()
    console().print(
        t(
            N_("Created {created}, updated {updated}, unchanged {unchanged}."),
            created=len(report.created),
            updated=len(report.updated),
            unchanged=len(report.unchanged),
        ),
        markup=False,
    )


@kb_app.command("export")
def export_command(
    path: Path = typer.Argument(
        ..., help="A folder (one <key>.md per article) or a file ending in .jsonl."
    ),
) -> None:
    """Write every article, in the format `anshin kb import` reads back unchanged."""
    settings = load_settings()
    with open_session(settings) as session:
        written = exchange.export_path(session, path)
    typer.echo(t(N_("Wrote {n} articles to {path}."), n=written, path=str(path)))


def _query(text: str, kinds: list[str], limit: int, locale: str | None) -> rules.Query:
    """The query checked by the console's rules; a refusal is bad input (exit 2)."""
    try:
        return rules.check_query(text, kinds=kinds, limit=limit, locale=locale)
    except InvalidInput as exc:
        where = {"q": "QUERY"}.get(exc.field or "", exc.field)
        raise BadInput(exc.msgid, field=where, **exc.params) from None


@kb_app.command("search")
def search_command(
    query: str = typer.Argument(..., help="The words to look for, as a customer would type them."),
    kind: list[str] = typer.Option(
        [],
        "--kind",
        help="Only this kind (faq, explanation, workaround, script, avoid_expression); "
        "repeat for several.",
    ),
    limit: int | None = typer.Option(
        None, "--limit", parser=count, help=f"At most this many (1 to {rules.LIMIT_MAX}; 10)."
    ),
    locale: str | None = typer.Option(None, "--locale", help="Only articles in ja or en."),
    format: str = typer.Option(
        "text",
        "--format",
        callback=check_format,
        help='text (a table) or json ([{"key", "kind", "title", "score", "snippet"}]).',
    ),
) -> None:
    """Search the knowledge base, best match first."""
    checked = _query(query, kind, 10 if limit is None else limit, locale)
    settings = load_settings()
    with open_session(settings) as session:
        hits = search.search(session, checked)
    rows = [
        {
            "key": hit.key,
            "kind": hit.kind,
            "title": hit.title,
            "score": round(hit.score, 4),
            "snippet": hit.snippet,
        }
        for hit in hits
    ]
    if format == "json":
        print_json(rows)
        return
    out = console()
    if not rows:
        out.print(t(N_("No articles found.")), markup=False)
        return
    table = Table()
    table.add_column(t(N_("Key")), no_wrap=True)
    table.add_column(t(N_("Kind")), no_wrap=True)
    table.add_column(t(N_("Title")))
    table.add_column(t(N_("Score")), no_wrap=True, justify="right")
    table.add_column(t(N_("Snippet")), ratio=1)
    for row in rows:
        snippet = str(row["snippet"])
        table.add_row(
            escape(str(row["key"])),
            str(row["kind"]),
            escape(str(row["title"])),
            f"{row['score']:.2f}",
            escape(snippet if len(snippet) <= SNIPPET_SHOWN else snippet[:SNIPPET_SHOWN] + "…"),
        )
    out.print(table)


@synonyms_app.command("import")
def synonyms_import(
    file: Path = typer.Argument(..., help="One group per line, words separated by commas."),
) -> None:
    """Replace the synonym list with the groups in FILE (# starts a comment)."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise BadInput(
            N_("Cannot read {path}: {reason}"),
            field="FILE",
            path=str(file),
            reason=exc.strerror or str(exc),
        ) from None
    groups = exchange.parse_synonyms(raw)
    settings = load_settings()
    with open_session(settings) as session:
        service.replace_synonyms(session, groups, actor=actor())
        session.commit()
    typer.echo(t(N_("The synonym list now has {n} groups."), n=len(groups)))


@synonyms_app.command("export")
def synonyms_export(
    file: Path = typer.Argument(..., help="Where to write the list ('-' for the screen)."),
) -> None:
    """Write the synonym list, one group per line, as `anshin kb synonyms import` reads it."""
    settings = load_settings()
    with open_session(settings) as session:
        groups = service.synonym_groups(session)
    text = exchange.format_synonyms(groups)
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(
            N_("Cannot write {path}: {reason}"),
            field="FILE",
            path=str(file),
            reason=exc.strerror or str(exc),
        ) from None
    typer.echo(t(N_("Wrote {n} synonym groups to {path}."), n=len(groups), path=str(file)))


@kb_app.command("starter")
def starter_command() -> None:
    """Load the shipped starter list: expressions to avoid, FAQ, scripts, synonyms.

    Articles the knowledge base already has (by key) are left as they are.
    """
    settings = load_settings()
    with open_session(settings) as session:
        report = exchange.load_starter(session, actor=actor())
        session.commit()
    typer.echo(
        t(
            N_(
                "Starter list: {created} articles added, {kept} already there (left as they "
                "are), {groups} synonym groups added."
            ),
            created=len(report.created),
            kept=len(report.kept),
            groups=report.synonym_groups,
        )
    )


@kb_app.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index from every article, inquiry, incident and update.

    Search keeps the index current by itself; this is for after a restore, an
    import made outside anshin, or a change to the analysis.
    """
    from anshin.knowledge import index

    settings = load_settings()
    with open_session(settings) as session, _spinner() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(feed: str, count: int) -> None:
            if feed not in tasks:
                tasks[feed] = bar.add_task(feed, total=None)
            bar.update(tasks[feed], completed=count)

        total = index.reindex(session, progress=progress)
        session.commit()
    typer.echo(t(N_("Indexed {n} records."), n=total))


def _spinner() -> Progress:
    """A bar for work whose total is not known in advance: the feed and its running count."""
    out = console()
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed}"),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )


def register(app: typer.Typer) -> None:
    """Add ``kb`` to the root command."""
    app.add_typer(kb_app, name="kb")
