"""Concurrent callers' work done together by whichever of them gets the turn ("group commit").

Threads that each bring one item (an inquiry to store, a text to encode) and
would each pay the same fixed cost — a commit, a pass over the encoder's
weights — join a waiting list; the first to get the turn takes every item
waiting at that moment (up to ``most``) and does them in one call, then hands
each caller its own result. Nobody waits for a timer: a caller alone is served
at once, and under load the group is whatever arrived during the previous
group's work. The same way databases commit concurrent transactions together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Slot(Generic[T]):
    """One caller's item, and its result (or the exception to raise) once done."""

    item: T
    done: bool = False
    result: Any = None


class Combiner(Generic[T, R]):
    """Runs concurrent callers' items in groups of up to ``most``, one group at a time."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._turn = threading.Lock()
        self._waiting_lock = threading.Lock()
        self._waiting: list[_Slot[T]] = []

    def run(self, item: T, work: Callable[[list[T]], Sequence[R | BaseException]]) -> R:
        """``item``'s result from ``work``, called on a group that holds it.

        ``work`` takes the group's items and returns one result per item, in
        order; a result that is an exception is raised in its own caller's
        thread only. If ``work`` itself raises, every caller of that group gets
        the exception. The caller who gets the turn runs ``work`` (its own
        function: its session, its settings) for everyone in the group.
        """
        mine = _Slot(item)
        with self._waiting_lock:
            self._waiting.append(mine)
        while not mine.done:
            with self._turn:
                if mine.done:
                    break
                with self._waiting_lock:
                    group = self._waiting[: self.most]
                    del self._waiting[: self.most]
                self._serve(group, work)
        if isinstance(mine.result, BaseException):
            raise mine.result
        result: R = mine.result
        return result

    @staticmethod
    def _serve(
        group: list[_Slot[T]], work: Callable[[list[T]], Sequence[R | BaseException]]
    ) -> None:
        try:
            results: Sequence[Any] = work([slot.item for slot in group])
            if len(results) != len(group):
                raise RuntimeError(f"{len(results)} results for {len(group)} items")
        except BaseException as exc:  # every caller of the group hears of it
            results = [exc] * len(group)
        for slot, result in zip(group, results, strict=True):
            slot.result = result
            slot.done = True
