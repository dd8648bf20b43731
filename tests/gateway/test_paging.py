"""The paging state machines on their own: cursors, the search walk's restarts, chunking."""

from __future__ import annotations

from typing import Any

import pytest

from sync.gateway.paging import CursorPager, PagingLoopError, SearchWalk, chunked


def page(ids: list[int], after: str | None) -> dict[str, Any]:
    paging = {"next": {"after": after}} if after else None
    return {"results": [{"id": str(i)} for i in ids], "paging": paging}


def test_cursor_pager_stops_on_last_page_and_rejects_repeats() -> None:
    pager = CursorPager("GET /x")
    assert pager.advance({"next": {"after": "a"}}) == "a"
    assert pager.advance({"next": {"after": "b"}}) == "b"
    assert pager.advance(None) is None
    with pytest.raises(PagingLoopError):
        pager.advance({"next": {"after": "a"}})


def test_search_walk_restarts_from_last_id_before_the_cap() -> None:
    walk = SearchWalk([{"filters": [{"propertyName": "x", "operator": "EQ", "value": "1"}]}],
                      ["name"], limit=200, cap=600)
    assert "after" not in walk.body()
    assert walk.advance(page([1, 2], "200"))
    assert walk.body()["after"] == "200"
    assert walk.advance(page([3, 4], "400"))
    assert walk.advance(page([5, 6], "600"))  # 600 + 200 > 600: restart after id 6
    body = walk.body()
    assert "after" not in body
    assert body["filterGroups"][0]["filters"][-1] == {
        "propertyName": "hs_object_id", "operator": "GTE", "value": "7"}
    assert body["filterGroups"][0]["filters"][0]["propertyName"] == "x"
    assert walk.restarts == 1
    assert not walk.advance(page([7], None))


def test_search_walk_without_groups_gets_one_group_for_the_floor() -> None:
    walk = SearchWalk([], [], limit=100, cap=100)
    assert walk.advance(page([41], "100"))
    assert walk.body()["filterGroups"] == [
        {"filters": [{"propertyName": "hs_object_id", "operator": "GTE", "value": "42"}]}]


def test_search_walk_detects_a_server_ignoring_the_floor() -> None:
    walk = SearchWalk([], [], limit=100, cap=100)
    assert walk.advance(page([50], "100"))
    with pytest.raises(PagingLoopError, match="does not advance"):
        walk.advance(page([50], "100"))


def test_chunked() -> None:
    assert [len(c) for c in chunked(list(range(250)), 100)] == [100, 100, 50]
    assert list(chunked([], 100)) == []
    with pytest.raises(ValueError, match="size"):
        list(chunked([1], 0))
