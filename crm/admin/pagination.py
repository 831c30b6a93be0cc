"""Pages of a case list that count only as far as anyone pages."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property

#: Case lists count at most this many rows (20 pages of 50); beyond it they say "more than".
LIST_COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """Counts a case list only up to :data:`LIST_COUNT_CAP` + 1 rows.

    An exact COUNT(*) of the shared history (every open case of every company that has a case at
    the hub) reads hundreds of thousands of rows at national scale to print one number nobody
    pages through; finding the first thousand and one rows, in any order, is enough to draw the
    pages and to say "more than 1,000".
    """

    cap = LIST_COUNT_CAP

    @cached_property
    def counted(self) -> int:
        """Rows found, at most ``cap`` + 1 (one more tells that the list goes on)."""
        object_list: Any = self.object_list
        return int(object_list.order_by()[: self.cap + 1].count())

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        return self.counted > self.cap
