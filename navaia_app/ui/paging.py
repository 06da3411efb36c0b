"""Pagination shared by every table page: the state keeps one page of rows, never a table."""

from __future__ import annotations

import reflex as rx

from navaia_app.auth.state import authenticated
from navaia_app.ui.timefmt import parse_day


class PagedMixin(rx.State, mixin=True):
    """Mixed into a page state that implements `_reload()` (load the current page of rows)."""

    page: int = 1
    page_size: int = 25
    total: int = 0

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @rx.var
    def range_label(self) -> str:
        if self.total == 0:
            return "No results"
        first = (self.page - 1) * self.page_size + 1
        last = min(self.total, self.page * self.page_size)
        return f"{first:,}–{last:,} of {self.total:,}"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def _clamp_page(self) -> None:
        pages = max(1, -(-self.total // self.page_size))
        self.page = min(max(1, self.page), pages)

    def _reload(self) -> None:
        raise NotImplementedError

    @rx.event
    @authenticated
    def next_page(self):
        self.page += 1
        self._clamp_page()
        self._reload()

    @rx.event
    @authenticated
    def prev_page(self):
        self.page -= 1
        self._clamp_page()
        self._reload()

    def _first_page(self) -> None:
        """Filters changed: start again from the first page."""
        self.page = 1
        self._reload()


class SearchMixin(rx.State, mixin=True):
    """A search box over a paged table (mixed in with PagedMixin): each change starts from the first page."""

    search: str = ""

    @rx.event
    @authenticated
    def set_search(self, value: str):
        self.search = (value or "")[:200]
        self._first_page()


class DateRangeMixin(rx.State, mixin=True):
    """A from and a to day (YYYY-MM-DD) over a paged table (mixed in with PagedMixin): each change starts from
    the first page; a day that does not read as one clears its bound."""

    date_from: str = ""
    date_to: str = ""

    @rx.event
    @authenticated
    def set_date_from(self, value: str):
        self.date_from = value if parse_day(value) else ""
        self._first_page()

    @rx.event
    @authenticated
    def set_date_to(self, value: str):
        self.date_to = value if parse_day(value) else ""
        self._first_page()


def sort_by_column(state, column: str, sortable, *, descending_first: bool = False) -> None:
    """A click on a column header (the body of a page's `sort_by`): sort by that column (descending first
    when `descending_first`), or the other way when it is already sorted by it; back to the first page.
    A column not in `sortable` changes nothing."""
    if column not in sortable:
        return
    state.descending = not state.descending if state.sort == column else descending_first
    state.sort = column
    state._first_page()


class StatusFilterMixin(rx.State, mixin=True):
    """A status select over a paged table (mixed in with PagedMixin; ui.layout.status_select shows it): "all" is
    no filter; each change starts from the first page."""

    status_filter: str = ""

    @rx.event
    @authenticated
    def set_status_filter(self, value: str):
        self.status_filter = "" if value == "all" else value
        self._first_page()
