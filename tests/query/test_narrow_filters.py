"""Which filters newest-first search asks for their documents first: one of its facets must be narrow by
its own count (a kept table or an index), so a wide filter is never walked for nothing."""

from __future__ import annotations

import importlib

from storage.query import DocumentFilter
from tests.query.conftest import Archive

SEARCH = importlib.import_module("storage.search")


def passing(archive: Archive, **facets: object) -> int:
    where, params = DocumentFilter(**facets).where("d")  # type: ignore[arg-type]
    (count,) = archive.db.execute(f"SELECT COUNT(*) FROM documents d WHERE {where}", params).fetchone()
    return int(count)


def test_a_facet_narrower_than_the_limit_makes_the_filter_narrow(archive: Archive) -> None:
    names = sorted({n for d in archive.docs.values() for n in d["deputies"]})
    cases = [
        {"deputies": [names[0]]},
        {"adoption": ["部分采纳"]},
        {"portals": ["sichuan"]},
        {"kinds": ["suggestion_reply"]},
        {"classes": ["A"], "kinds": ["suggestion_reply", "proposal_reply"]},
        {"since": "2025-01", "until": "2025-03"},
        {"statuses": ["withdrawn"]},
    ]
    for facets in cases:
        count = passing(archive, **facets)
        assert count > 0, facets
        filters = DocumentFilter(**facets)  # type: ignore[arg-type]
        assert SEARCH._may_be_narrow(archive.db, filters, count) is True, facets
    # every facet wider than the limit: not asked, even when the filter itself is narrow (an intersection)
    wide = DocumentFilter(kinds=["suggestion_reply", "proposal_reply", "policy"], since="2000")
    assert passing(archive, kinds=["suggestion_reply", "proposal_reply", "policy"], since="2000") > 10
    assert SEARCH._may_be_narrow(archive.db, wide, 10) is False
    # a region (no count of its own) is asked
    assert SEARCH._may_be_narrow(archive.db, DocumentFilter(regions=["350000"]), 1) is True
