"""Pages of a long list: which page was asked for, and what the pager shows.

Lists that can grow without bound (deliveries of a notice, subscribers,
incidents) are read a page at a time with ``LIMIT``/``OFFSET``; the page number
comes from ``?page=`` and is refused clearly when it is not a whole number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import parse_id

MAX_PAGE = 100_000


def page_number(value: str | None) -> int:
    """``?page=`` as a number from 1; blank is 1, anything else is a 422."""
    text = (value or "").strip()
    if not text:
        return 1
    number = parse_id(text)
    if number is None or number > MAX_PAGE:
        raise InvalidInput(
            N_("The page must be a whole number from 1 to {n}."), field="page", n=MAX_PAGE
        )
    return number


@dataclass(frozen=True)
class Paging:
    """One page of ``total`` rows, ``size`` per page (pages count from 1)."""

    page: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        """Rows to skip before this page."""
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        """How many pages the rows fill (at least one, even when empty)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_row(self) -> int:
        """The number of this page's first row (0 when there is none)."""
        return min(self.offset + 1, self.total)

    @property
    def last_row(self) -> int:
        """The number of this page's last row."""
        return min(self.offset + self.size, self.total)
