"""Wake-ups after commits: what ``queue.wake`` and ``queue.wake_soon`` cost the committer.

300 commits 3 ms apart (a burst of intake requests) on the SQLite queue;
prints the time spent in the committing thread per commit and how many
wake-ups reached the queue. Recorded by hand in bench/RESULTS.md (intake).

    python bench/wake.py [--commits N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

from anshin.config import Settings
from anshin.notify import queue

COMMITS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=COMMITS, help="commits per way")
    commits = parser.parse_args().commits
    settings = Settings(database_url=f"sqlite:///{tempfile.mkdtemp()}/wake.db", secret_key="x" * 32)
    huey = queue.get_queue(settings).huey
    ways: tuple[tuple[str, Callable[[Settings, int], object]], ...] = (
        ("wake (one per commit)", queue.wake),
        ("wake_soon (coalesced)", queue.wake_soon),
    )
    for name, wake in ways:
        huey.flush()
        queue.forget_wakes()
        spent = 0.0
        for _ in range(commits):
            began = time.perf_counter()
            wake(settings, 1)
            spent += time.perf_counter() - began
            time.sleep(0.003)
        time.sleep(0.2)  # the last booked wake-up goes out
        print(
            f"{name}: {spent / commits * 1000:.2f} ms per commit in the caller, "
            f"{huey.pending_count()} wake-ups queued for {commits} commits"
        )


if __name__ == "__main__":
    main()
