"""Catalogue search: a query found in more listings than the capped count shows gets its page by walking the
listings in the page's order (mall.search._planned); the page is the same as when the matches are sorted."""
import pytest

from core.extensions import db
from mall import search


@pytest.mark.parametrize("sort", sorted(search.SORTS))
def test_a_common_querys_page_is_the_page_of_every_match_sorted(mall, monkeypatch, sort):
    for i in range(6):
        mall.new_listing(model=f"C{i}", price=f"{60 + (i * 7) % 40}.00", name=f"测试产品 办公椅 {i}")
    db.session.commit()
    everything = search.search(search.Query(q="办公椅", sort=sort, per_page=100))
    assert not everything.capped and everything.count >= 6
    monkeypatch.setattr(search, "COUNT_CAP", 2)  # the words are "common" now: the page walks the order's index
    common = search.search(search.Query(q="办公椅", sort=sort, per_page=4))
    assert common.capped and common.count == 2
    assert [row.id for row in common.listings] == [row.id for row in everything.listings][:4]
