"""``?page=`` is read strictly: digits of other scripts are refused, never passed to int()."""

from __future__ import annotations

import pytest

from anshin.errors import InvalidInput
from anshin.web.paging import MAX_PAGE, page_number


@pytest.mark.parametrize("value", ["²", "١٢", "0", "-1", "1.5", "x", str(MAX_PAGE + 1), "9" * 30])
def test_a_page_that_is_not_a_whole_number_in_range_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        page_number(value)


@pytest.mark.parametrize(("value", "page"), [(None, 1), ("", 1), (" 3 ", 3), ("1", 1)])
def test_a_page_number(value: str | None, page: int) -> None:
    assert page_number(value) == page
