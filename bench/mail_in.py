"""Inbound mail: mails per second through ``anshin mail-in`` against storing the same rows directly.

Side by side in one run, on the same kind of database: the **baseline** stores
N inquiries with ``inquiries.service.receive`` and a commit each (the row
only, no mail); the **listener** receives the same N texts as real ISO-2022-JP
/ Shift_JIS / UTF-8 mails over SMTP (smtplib, one connection, one transaction
per mail) and answers each only after its commit; a third of them are replies
that thread onto an earlier inquiry. The ratio says what reading, threading
and SMTP cost on top of the insert. ``--write`` updates the ``mail_in``
section of bench/RESULTS.md (``mail_in-postgresql`` with ``--database-url``).
"""

from __future__ import annotations

import argparse
import shlex
import smtplib
import sys
import tempfile
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

from anshin.config import Settings
from anshin.db import Base, import_all_models, make_engine, make_sessionmaker
from anshin.inquiries import mail_server, service
from common import console, free_port, machine, markdown_table, percentile, today, write_section
from fanout_setup import throwaway_database

CHARSETS = (("iso-2022-jp", "7bit"), ("shift_jis", "base64"), ("utf-8", "quoted-printable"))
TEXT = "お世話になっております。\n{n}番目の問い合わせです。ログインできません（エラー500）。\n"


def mails(count: int) -> list[bytes]:
    """``count`` mails; every third answers the one before it (In-Reply-To)."""
    out: list[bytes] = []
    for n in range(count):
        charset, cte = CHARSETS[n % len(CHARSETS)]
        message = EmailMessage()
        message["From"] = f"顧客 {n} <c{n}@example.jp>"
        message["To"] = "support@example.com"
        message["Subject"] = f"【至急】ログインできません {n}"
        message["Message-ID"] = f"<bench.{n}@example.jp>"
        if n % 3 == 2:
            message["In-Reply-To"] = f"<bench.{n - 1}@example.jp>"
        message.set_content(TEXT.format(n=n), charset=charset, cte=cte)
        out.append(message.as_bytes(policy=policy.SMTP))
    return out


def fresh(url: str) -> None:
    import_all_models()
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()


def baseline(settings: Settings, count: int) -> tuple[float, list[float]]:
    """The same inquiries stored directly, a commit each: seconds and per-row latencies."""
    engine = make_engine(settings.database_url, settings)
    sessions = make_sessionmaker(engine)
    latencies: list[float] = []
    start = time.perf_counter()
    for n in range(count):
        t0 = time.perf_counter()
        with sessions() as session:
            service.receive(
                session,
                settings,
                service.NewInquiry(channel="email", text=TEXT.format(n=n)),
                actor="bench",
            )
            session.commit()
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    engine.dispose()
    return seconds, latencies


def listener(settings: Settings, data: list[bytes]) -> tuple[float, list[float], int]:
    """The mails over SMTP to a real listener: seconds, per-mail latencies, 250s counted."""
    port = free_port()
    latencies: list[float] = []
    accepted = 0
    with (
        mail_server.listening(settings, "127.0.0.1", port),
        smtplib.SMTP("127.0.0.1", port, timeout=60) as client,
    ):
        client.ehlo("bench.example.jp")
        start = time.perf_counter()
        for raw in data:
            t0 = time.perf_counter()
            client.mail("c@example.jp")
            client.rcpt("support@example.com")
            code, _ = client.data(raw)
            latencies.append(time.perf_counter() - t0)
            accepted += code == 250
        seconds = time.perf_counter() - start
    return seconds, latencies, accepted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=1000, help="mails (and baseline rows)")
    parser.add_argument("--database-url", help="a PostgreSQL server (a throwaway database)")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    command = "python bench/mail_in.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    data = mails(args.mails)
    with (
        tempfile.TemporaryDirectory(prefix="anshin-mail-in-") as tmp,
        throwaway_database(Path(tmp), args.database_url) as url,
    ):
        settings = Settings(database_url=url, secret_key="b" * 40)
        fresh(url)
        base_s, base_lat = baseline(settings, args.mails)
        fresh(url)
        mail_s, mail_lat, accepted = listener(settings, data)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    info = machine()
    rows = [
        [
            "baseline: `service.receive` + commit",
            args.mails / base_s,
            percentile(base_lat, 50) * 1000,
            percentile(base_lat, 99) * 1000,
            "100%",
        ],
        [
            "`anshin mail-in` over SMTP (parse, thread, store, commit, 250)",
            args.mails / mail_s,
            percentile(mail_lat, 50) * 1000,
            percentile(mail_lat, 99) * 1000,
            f"{base_s / mail_s:.0%}",
        ],
    ]
    section = "\n".join(
        [
            f"## Inbound mail ({backend}): `anshin mail-in` against storing the same rows directly",
            "",
            f"Measured {today()} with `{command}`.",
            "",
            f"Machine: {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM, Python "
            f"{info['python']}. Database: {backend}. {args.mails} mails, a third each in "
            "ISO-2022-JP (7bit), Shift_JIS (base64) and UTF-8 (quoted-printable); every "
            "third a reply threaded by In-Reply-To. One SMTP client, one connection, mails "
            "one after another (the listener files one mail at a time by design).",
            "",
            markdown_table(["path", "per second", "p50 ms", "p99 ms", "vs baseline"], rows),
            "",
            f"- {accepted} of {args.mails} mails answered 250.",
        ]
    )
    print(section)
    if accepted != args.mails:
        console.print(f"only {accepted} of {args.mails} mails were accepted")
        return 1
    if args.write:
        write_section("mail_in" + ("-postgresql" if args.database_url else ""), section)
        console.print("bench/RESULTS.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
