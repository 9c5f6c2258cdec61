"""Catalogue search: full text over name, brand, model and specifications, filters, sort by price,
pagination, a capped count.

Chinese words are mostly two characters and are not separated by spaces, so neither trigram indexes nor
PostgreSQL's ``simple`` configuration find them. Listings are therefore indexed as tokens made here:
each run of Chinese characters as its overlapping bigrams plus its single characters (so that a
one-character term such as 笔 matches), and Latin text as whole lower-case words and numbers. A query is
cut the same way and every token must match (a two-character term is one bigram; a longer one is all of
its bigrams, a one-character term its unigram).

PostgreSQL keeps the tokens as a generated ``tsvector`` column (``array_to_tsvector``: the lexemes are
taken exactly as made here, no parser in between) with a GIN index; SQLite as an FTS5 table kept in step
by triggers (migration 0007).
"""
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, literal, literal_column, select, text

from accounts.models import Region
from core.extensions import db
from mall.models import Listing, ListingRegion

COUNT_CAP = 1000  # counts above it are shown as "1000+"
PER_PAGE = 20
MAX_PAGE = 50  # deeper than 1,000 results a person refines the query instead
MAX_TOKENS = 16

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECES = re.compile(rf"[{_HAN}]+|[a-z0-9]+")
_IS_HAN = re.compile(rf"[{_HAN}]")

SORTS = ("relevance", "price_asc", "price_desc", "newest")


def _han_tokens(run: str, with_unigrams: bool) -> list[str]:
    bigrams = [run[i:i + 2] for i in range(len(run) - 1)]
    if with_unigrams or len(run) == 1:
        return bigrams + list(run)
    return bigrams


def tokens(text_: str, for_query: bool = False) -> list[str]:
    """The tokens of ``text_``, each once, in order of first appearance."""
    made = []
    for piece in _PIECES.findall((text_ or "").lower()):
        if _IS_HAN.match(piece):
            made.extend(_han_tokens(piece, with_unigrams=not for_query))
        else:
            made.append(piece)
    return list(dict.fromkeys(made))


def index_text(listing: Listing) -> str:
    return " ".join(tokens(" ".join([listing.name, listing.brand, listing.model, listing.specifications])))


REGION_DEPTH = 10  # province, city, county ... far more than there are levels


def region_chain(code: str):
    """A recursive CTE of (code, depth): ``code`` itself, then its parents upwards."""
    chain = select(literal(code).label("code"), literal(0).label("depth")).cte("region_chain", recursive=True)
    return chain.union_all(select(Region.parent_code, chain.c.depth + 1)
                           .join(chain, Region.code == chain.c.code)
                           .where(Region.parent_code.is_not(None), Region.parent_code != "",
                                  chain.c.depth < REGION_DEPTH))


def region_and_parents(code: str) -> list[str]:
    """A listing delivering to a province or a city covers the places inside it: the code, then its
    parents upwards (one query)."""
    if not code:
        return []
    chain = region_chain(code)
    codes = []
    for found in db.session.scalars(select(chain.c.code).order_by(chain.c.depth)):
        if found in codes:
            break
        codes.append(found)
    return codes


@dataclass
class Query:
    q: str = ""
    category: str | None = None
    brand: str | None = None
    region: str | None = None
    supplier_id: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class Results:
    listings: list = field(default_factory=list)
    count: int = 0
    capped: bool = False
    page: int = 1
    pages: int = 1
    tokens: list = field(default_factory=list)


def _quote_fts(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _quote_tsquery(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def match_clause(words: list[str]):
    """The WHERE clause that asks the full-text index for listings holding every token."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        # The query is written into the statement, not bound: a prepared statement's generic plan cannot
        # tell a rare term from a common one, and the best plan differs between them. Tokens hold only
        # Chinese characters, Latin letters and digits, and are quoted besides.
        query = " & ".join(_quote_tsquery(t) for t in words).replace("'", "''")
        return text(f"mall_listing.search_vector @@ '{query}'::tsquery")
    fts = " AND ".join(_quote_fts(t) for t in words)
    return Listing.id.in_(select(literal_column("rowid")).select_from(text("mall_listing_fts"))
                          .where(text("mall_listing_fts MATCH :fts").bindparams(fts=fts)))


def filtered(query: Query, statuses=("approved",)) -> tuple[Select, list[str]]:
    words = tokens(query.q, for_query=True)[:MAX_TOKENS]
    stmt = select(Listing).where(Listing.status.in_(statuses))
    if words:
        stmt = stmt.where(match_clause(words))
    if query.category:
        stmt = stmt.where(Listing.category == query.category)
    if query.brand:
        stmt = stmt.where(func.lower(Listing.brand) == query.brand.strip().lower())
    if query.supplier_id:
        stmt = stmt.where(Listing.supplier_id == query.supplier_id)
    if query.min_price is not None:
        stmt = stmt.where(Listing.price >= query.min_price)
    if query.max_price is not None:
        stmt = stmt.where(Listing.price <= query.max_price)
    if query.in_stock:
        stmt = stmt.where(Listing.stock > 0)
    if query.region:
        stmt = stmt.where(Listing.id.in_(select(ListingRegion.listing_id)
                                         .where(ListingRegion.region_code.in_(region_and_parents(query.region)))))
    return stmt, words


def ordered(stmt: Select, sort: str) -> Select:
    if sort == "price_asc":
        return stmt.order_by(Listing.price.asc(), Listing.id.asc())
    if sort == "price_desc":
        return stmt.order_by(Listing.price.desc(), Listing.id.desc())
    # relevance: every result holds every token; the most recently reviewed first
    return stmt.order_by(Listing.updated_at.desc(), Listing.id.desc())


def capped_count(stmt: Select, cap: int | None = None) -> tuple[int, bool]:
    """The number of results up to ``cap`` (counting a million rows to print "1000+" is waste)."""
    cap = COUNT_CAP if cap is None else cap
    inner = stmt.with_only_columns(Listing.id).order_by(None).limit(cap + 1).subquery()
    count = db.session.scalar(select(func.count()).select_from(inner)) or 0
    return min(count, cap), count > cap


# Plan settings for a text query; for a common one's page also those that make the ordered walk its plan
# (the walk's cost, priced on the misguess, would otherwise bring in parallel workers and JIT compilation,
# which cost more than the walk itself).
TEXT_QUERY_PLAN = {"enable_seqscan": "off"}
COMMON_PAGE_PLAN = {"enable_bitmapscan": "off", "enable_sort": "off", "jit": "off",
                    "max_parallel_workers_per_gather": "0"}


@contextmanager
def _planned(words: list[str]):
    """Steer PostgreSQL's plan for a text query, within this transaction only; yields ``also(settings)`` to
    steer the rest of it further.

    PostgreSQL prices the per-row @@ of a sequential scan far below what it costs, and so scans the whole
    table for a common term instead of asking the GIN index (four times slower at 20,000 listings, worse
    beyond): sequential scans are discouraged. And it guesses how many listings hold several of a word's
    bigrams as if they were unrelated (笔记 and 记本 always come together), so for a page it may read
    every match from the GIN index and sort them all: when the capped count has shown the words common
    (more matches than the cap), the page walks the partial index in its own order instead (migration
    0018, COMMON_PAGE_PLAN), checking the words row by row, and stops at the page's end."""
    postgres = bool(words) and db.session.get_bind().dialect.name == "postgresql"
    changed = []

    def also(settings: dict) -> None:  # one round trip; SET LOCAL's effect
        if postgres:
            db.session.execute(text("SELECT " + ", ".join(f"set_config('{name}', '{value}', true)"
                                                          for name, value in settings.items())))
            changed.extend(settings)
    also(TEXT_QUERY_PLAN)
    try:
        yield also
    finally:
        if changed:
            db.session.execute(text("SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name IN ("
                                    + ", ".join(f"'{name}'" for name in changed) + ")"))


def search(query: Query) -> Results:
    stmt, words = filtered(query)
    per_page = max(1, min(query.per_page, 100))
    with _planned(words) as also:
        count, capped = capped_count(stmt)
        if capped:
            also(COMMON_PAGE_PLAN)
        pages = max(1, min(MAX_PAGE, -(-count // per_page)))
        page = max(1, min(query.page, pages))
        rows = list(db.session.scalars(ordered(stmt, query.sort if query.sort in SORTS else "relevance")
                                       .limit(per_page).offset((page - 1) * per_page)))
    return Results(listings=rows, count=count, capped=capped, page=page, pages=pages, tokens=words)
