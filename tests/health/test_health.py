"""Run health classification, table-driven."""

from __future__ import annotations

import pytest

from core.health import BLOCKED, DEGRADED, FAILED, OK, classify

GOOD = {"downloader/response_count": 40, "yibao/list_pages": 3, "yibao/listed": 30, "yibao/documents": 20,
        "yibao/coverage": {"title": 1.0, "body_text": 1.0, "doc_no": 0.9, "index_no": 0.9}}
HISTORY = [GOOD, GOOD, GOOD]


def run(**changes):
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("stats", "reason", "history", "expected"),
    [
        pytest.param(run(), "finished", HISTORY, OK, id="healthy"),
        pytest.param(run(), "shutdown", HISTORY, FAILED, id="unclean-finish"),
        pytest.param(run(**{"yibao/list_pages": 0, "yibao/blocked": 3}), "finished", HISTORY, BLOCKED, id="waf"),
        pytest.param(run(**{"yibao/listed": 0}), "finished", HISTORY, FAILED, id="no-article-links"),
        pytest.param(run(**{"downloader/response_count": 0}), "finished", (), FAILED, id="no-response"),
        pytest.param(run(**{"yibao/errors/detail": 2}), "finished", HISTORY, DEGRADED, id="some-errors"),
        pytest.param(run(**{"yibao/errors/detail": 25}), "finished", HISTORY, FAILED, id="mostly-errors"),
        pytest.param(run(**{"yibao/blocked": 1}), "finished", HISTORY, DEGRADED, id="one-blocked-fetch"),
        pytest.param(run(**{"yibao/coverage": {**GOOD["yibao/coverage"], "body_text": 0.2}}), "finished", HISTORY,
                     FAILED, id="bodies-gone-layout-change"),
        pytest.param(run(**{"yibao/coverage": {**GOOD["yibao/coverage"], "index_no": 0.1}}), "finished", HISTORY,
                     DEGRADED, id="metadata-block-gone"),
        pytest.param(run(**{"yibao/coverage": {**GOOD["yibao/coverage"], "index_no": 0.1}}), "finished", (), OK,
                     id="no-history-no-judgement"),
        pytest.param(run(**{"yibao/documents": 2, "yibao/coverage": {"title": 1.0}}), "finished", HISTORY, OK,
                     id="too-few-records"),
    ],
)
def test_classify(stats, reason, history, expected):
    assert classify(dict(stats), reason, history) == expected
