"""Pages of a long list that never count the whole list.

Django's `Paginator` counts every row to number its pages. On a queue of a million cases that
count is nearly all of the page's time (ADR 0055), and nobody pages to the end of a list sorted by
deadline: they work from the top. So a page is read with one row more than it shows (that row
says whether a next page exists), and the list's size is counted only up to a cap: exact below
it, "more than" above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# Counting 10,001 index entries takes a few milliseconds; a million, tens to hundreds.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Page[Row]:
    rows: list[Row]
    number: int
    per_page: int
    has_next: bool
    # How many rows the whole list has, counted up to `cap`; `count_capped` if there are more.
    count: int
    count_capped: bool
    cap: int

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def start_index(self) -> int:
        """The position of the page's first row in the list, counting from 1 (0 if none)."""
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)


# No list has a million pages; past this, an offset could overflow the database's integers.
LAST_PAGE = 1_000_000


def page_number(raw: object) -> int:
    """The page asked for: a whole number from 1 (at most `LAST_PAGE`, an empty page); anything
    else is the first page, as Django's `Paginator.get_page` takes it."""
    try:
        number = int(str(raw))
    except ValueError:
        return 1
    return min(number, LAST_PAGE) if number >= 1 else 1


def count_up_to(rows: QuerySet[Any], cap: int = 0) -> int:
    """How many rows there are, counted up to `cap` (by default `COUNT_CAP`): `cap + 1` means
    more than `cap`."""
    cap = cap or COUNT_CAP
    # Without the list's order: sorted, the count walks the order's index and reads each row
    # (60 to 100 ms for 10,001 at a million); unsorted it reads an index alone (3 ms).
    return rows.order_by()[: cap + 1].count()


def counted(n: int) -> str:
    """A count from `count_up_to` in words: "1,234", or "More than 10,000"."""
    return f"More than {COUNT_CAP:,}" if n > COUNT_CAP else f"{n:,}"


def page_of(rows: QuerySet[Any], number: int, per_page: int, *, cap: int = 0) -> Page[Any]:
    """Page `number` of an ordered queryset: one query for its rows and the one after them,
    one capped count. A page past the end is empty; the page says so rather than moving the
    reader to a page they did not ask for."""
    cap = cap or COUNT_CAP
    start = (number - 1) * per_page
    fetched = list(rows[start : start + per_page + 1])
    count = count_up_to(rows, cap)
    return Page(
        rows=fetched[:per_page],
        number=number,
        per_page=per_page,
        has_next=len(fetched) > per_page,
        count=min(count, cap),
        count_capped=count > cap,
        cap=cap,
    )
