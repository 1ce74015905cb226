"""The fan-out benchmark's baseline: the same mails over ONE smtplib connection, no database.

This is the ceiling the product's delivery is compared with: what plain
Python can push into the same SMTP sink on this machine when there is nothing
to claim, render, sign or record. It runs as a process of its own (like the
product's worker) and sends a mail the product rendered, with only the
``To`` address and the Message-ID changed per recipient, so both runs send
mails of the same size to the same addresses.

Usage: ``python bench/fanout_baseline.py SMTP_PORT COUNT SAMPLE_FILE``. Prints
one JSON line: when sending started (CLOCK_MONOTONIC, comparable with the
sink's accept times), how many mails the server accepted and refused.
"""

from __future__ import annotations

import json
import smtplib
import sys
import time
from pathlib import Path

# The sample mail carries these in place of the address and the delivery id.
TO_MARK = b"to-address@placeholder.invalid"
ID_MARK = b"999999999"
ENVELOPE_FROM = "status@example.invalid"


def address(index: int) -> str:
    """The address of subscriber ``index``; the benchmark seeds the same ones."""
    return f"user{index}@example.com"


def send_all(port: int, count: int, sample: bytes) -> dict[str, float | int]:
    """Send ``count`` mails over one persistent connection; never retry, only count."""
    if TO_MARK not in sample or ID_MARK not in sample:
        raise ValueError("the sample mail lacks the address or id placeholder")
    # Split once so each mail is a join of five parts, not two scans of 3 KB.
    head, rest = sample.split(TO_MARK, 1)
    middle, tail = rest.split(ID_MARK, 1)
    started = time.monotonic()
    accepted = refused = 0
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as conn:
        conn.ehlo()
        for index in range(count):
            to = address(index)
            data = b"".join((head, to.encode(), middle, str(index + 1).encode(), tail))
            try:
                conn.sendmail(ENVELOPE_FROM, [to], data)
                accepted += 1
            except smtplib.SMTPResponseException:
                refused += 1
    return {"started": started, "accepted": accepted, "refused": refused}


if __name__ == "__main__":
    port, count, sample_file = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    print(json.dumps(send_all(port, count, sample_file.read_bytes())), flush=True)
