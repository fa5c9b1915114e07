"""The documents table's facets, read from counts the archive keeps instead of grouping its rows.

Datasette computes a column facet by grouping every row the table's filters pass, one query per facet:
at 1,000,000 documents the seven facets of the unfiltered table took 1.9 s and timed out, and 2.6 s
with a facet selected. ``CountedFacet`` (facet type ``counted``, configured in ``webui.metadata``) reads
``facet_counts`` instead (kept by the triggers of migration m008; ``storage.browse.facet_counts``): the
values of each facet over the whole table, or over the documents with one facet value selected
(``?province=福建省``), in a few milliseconds at any size. Several selected values
(``?province=福建省&kind=suggestion_reply``) are summed from ``facet_groups`` (migration m010: how many
documents have each combination of facet values; ``storage.browse.facet_counts_selected``), without
reading the documents or an index of them.

A search (``_search``, kept on the table), alone or with facet values selected, is counted from its
matches, read once for the request (``webui.table_search``), and every document's facet values kept in
memory (``storage.facet_columns``): a ``numpy.bincount``, not a read of each match's row.

Any other filter (a column filter such as ``published_on__gte``, ``_where``) is answered by
grouping the filtered rows, as Datasette does, but in one query for every facet (one pass over the
filtered rows instead of one per facet) under Datasette's facet time limit. So are the facets of an
archive whose counts are being rebuilt (``storage.browse.facet_counts`` says so).

The results have Datasette's column-facet shape (``type`` "column", toggle links, ``selected``), so the
table page and its JSON look as with Datasette's own facets. One difference: on a later page
(``_next=``) the counts still cover every filtered row (Datasette's own facets count only the rows
after the page's cursor).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import sqlite_utils
from datasette.facets import Facet
from datasette.utils import path_with_added_args, path_with_removed_args

from storage import facet_columns
from storage.browse import (
    FACET_COLUMNS,
    FacetCounts,
    facet_counts,
    facet_counts_of_rows,
    facet_counts_selected,
)
from webui import table_search
from webui.metadata import DATABASE
from webui.pages import with_archive

# Query-string arguments that do not change which rows the table shows (its page, columns, order, format).
KEEPS_ROWS = frozenset({
    "_col", "_nocol", "_sort", "_sort_desc", "_size", "_next", "_facet", "_facet_size", "_facet_array",
    "_facet_date", "_facet_counted", "_labels", "_nolabels", "_nofacet", "_nocount", "_nosuggest",
    "_trace", "_shape", "_json", "_nl", "_extra", "_stream", "_dl", "_header", "_timelimit", "_ttl",
    "_context", "_table",
})  # fmt: skip

def facet_selections(pairs: list[tuple[str, str]], *, search: bool = False) -> list[tuple[str, str]] | None:
    """The (facet, value) pairs the table's query string selects (``?province=福建省``, ``kind__exact=``),
    or None when it filters its rows otherwise (a search unless ``search``, another column filter,
    ``_where``)."""
    selected: list[tuple[str, str]] = []
    for key, value in pairs:
        if key == "_search" and (search or not value.strip()):
            continue  # an empty search box filters nothing (webui.plugin.filters_from_request)
        if key.startswith("_") and "__" not in key:
            if key not in KEEPS_ROWS:
                return None
            continue
        column = key[: -len("__exact")] if key.endswith("__exact") else key
        if column not in FACET_COLUMNS:
            return None
        selected.append((column, value))
    return selected


class CountedFacet(Facet):
    """Column facets of the documents table from ``facet_counts`` (see the module docstring)."""

    type = "counted"

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        # the documents table's facets only (a ``_facet_counted`` of another column or table is ignored)
        configs = [
            c for c in self.get_configs()
            if self.database == DATABASE and self.table == "documents"
            and (c["config"].get("column") or c["config"].get("simple")) in FACET_COLUMNS
        ]  # fmt: skip
        if not configs:
            return [], []
        columns = [c["config"].get("column") or c["config"]["simple"] for c in configs]
        pairs = self.get_querystring_pairs()
        counts: dict[str, list[tuple[Any, int]]] | None = None
        selected = facet_selections(pairs)
        if selected is not None and self.database == DATABASE and self.table == "documents":
            read: Callable[[sqlite_utils.Database], FacetCounts | None]
            if len(selected) <= 1:  # kept counts: the whole table, or one facet value and every other
                read = functools.partial(facet_counts, columns=columns, selected=selected[0] if selected else None)
            else:  # summed from the kept groups of facet values, not from the rows
                read = functools.partial(facet_counts_selected, columns=columns, selected=selected)
            counts = await self.ds.get_database(self.database).execute_fn(with_archive(read))
        elif self.database == DATABASE and self.table == "documents":
            counts = await self._of_search(columns, pairs)
        timed_out: list[str] = []
        if counts is None:
            counts, timed_out = await self._grouped(columns)
        results = []
        size = self.get_facet_size()
        for source_and_config, column in zip(configs, columns, strict=True):
            if column in timed_out:
                continue
            values = counts.get(column, [])
            shown = values[:size]
            expanded = (
                await self.ds.expand_foreign_keys(self.database, self.table, column, [v for v, _ in shown])
                if self.table
                else {}
            )
            results.append(
                {
                    "name": column,
                    "type": "column",
                    "hideable": source_and_config["source"] != "metadata",
                    "toggle_url": self.ds.urls.path(
                        path_with_removed_args(self.request, {"_facet_counted": column})
                    ),
                    "results": [self._value(column, value, count, pairs, expanded) for value, count in shown],
                    "truncated": len(values) > size,
                }
            )
        return results, timed_out

    def _value(
        self, column: str, value: Any, count: int, pairs: list[tuple[str, str]], expanded: dict[Any, Any]
    ) -> dict[str, Any]:
        """One facet value as Datasette's column facet gives it (its link adds or removes the value)."""
        column_qs = f"{column}__exact" if column.startswith("_") else column
        selected = (column_qs, str(value)) in pairs
        if selected:
            toggle = path_with_removed_args(self.request, {column_qs: str(value)})
        else:
            toggle = path_with_added_args(self.request, {column_qs: value})
        return {
            "value": value,
            "label": expanded.get((column, value), value),
            "count": count,
            "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle)),
            "selected": selected,
        }

    async def _of_search(self, columns: list[str], pairs: list[tuple[str, str]]) -> FacetCounts | None:
        """A search (with facet values selected or not): its matches, read once for the request
        (``webui.table_search``), counted from the facet values kept in memory (``storage.facet_columns``);
        None when the rows are filtered otherwise too."""
        selected = facet_selections(pairs, search=True)
        hits = table_search.kept(self.params.get("yibao_token")) if isinstance(self.params, dict) else None
        path = self.ds.get_database(self.database).path
        if selected is None or hits is None or path is None:
            return None
        return await asyncio.to_thread(facet_columns.for_archive(path).counts, hits.ids, columns, selected)

    async def _grouped(self, columns: list[str]) -> tuple[dict[str, list[tuple[Any, int]]], list[str]]:
        """Every facet's values over the filtered rows (Datasette's SQL for them), grouped in one query
        under the time Datasette gives as many facets (its facet time limit each: one query costs about
        what one facet did); when it is reached, every facet is reported as timed out."""
        limit_ms = self.ds.setting("facet_time_limit_ms") * len(columns)
        read = functools.partial(
            facet_counts_of_rows, columns=columns, sql=self.sql, params=self.params, time_limit_ms=limit_ms
        )
        counts = await self.ds.get_database(self.database).execute_fn(with_archive(read))
        return (counts, []) if counts is not None else ({}, list(columns))
