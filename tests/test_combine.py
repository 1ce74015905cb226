"""``anshin.combine.Combiner``: concurrent callers' items done together, results kept apart."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from anshin.combine import Combiner


def test_a_caller_alone_is_served_at_once_by_itself() -> None:
    combiner: Combiner[int, int] = Combiner(most=8)
    groups: list[list[int]] = []

    def work(items: list[int]) -> list[int]:
        groups.append(items)
        return [i * 10 for i in items]

    assert combiner.run(3, work) == 30
    assert groups == [[3]]


def test_waiting_callers_share_a_group_and_each_gets_its_own_result() -> None:
    combiner: Combiner[int, int] = Combiner(most=5)
    groups: list[list[int]] = []
    first = threading.Event()

    def work(items: list[int]) -> list[int]:
        groups.append(items)
        if len(groups) == 1:
            first.set()
            time.sleep(0.2)  # the others arrive meanwhile
        return [i * 10 for i in items]

    with ThreadPoolExecutor(max_workers=13) as pool:
        leader = pool.submit(combiner.run, 0, work)
        first.wait(5)
        rest = [pool.submit(combiner.run, i, work) for i in range(1, 13)]
        results = [leader.result(), *(f.result() for f in rest)]
    assert results == [i * 10 for i in range(13)]
    assert groups[0] == [0]
    assert max(len(g) for g in groups) == 5  # never more than ``most``
    assert sorted(i for g in groups for i in g) == list(range(13))  # each item once


def test_an_items_exception_is_raised_in_its_own_callers_thread_only() -> None:
    combiner: Combiner[int, int] = Combiner(most=8)
    first = threading.Event()

    def work(items: list[int]) -> list[int | BaseException]:
        if not first.is_set():
            first.set()
            time.sleep(0.2)
        return [ValueError(f"bad {i}") if i == 2 else i for i in items]

    with ThreadPoolExecutor(max_workers=4) as pool:
        leader = pool.submit(combiner.run, 0, work)
        first.wait(5)
        futures = [pool.submit(combiner.run, i, work) for i in (1, 2, 3)]
        assert leader.result() == 0
        assert futures[0].result() == 1 and futures[2].result() == 3
        with pytest.raises(ValueError, match="bad 2"):
            futures[1].result()


def test_work_that_fails_or_miscounts_fails_its_whole_group() -> None:
    combiner: Combiner[int, int] = Combiner(most=8)

    def broken(items: list[int]) -> list[int]:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError, match="database gone"):
        combiner.run(1, broken)
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        combiner.run(1, lambda items: [])
    assert combiner.run(5, lambda items: items) == 5  # the combiner is still usable
