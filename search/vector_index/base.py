"""The vector index interface, its value types, and what the backends share.

Two backends implement :class:`VectorIndex`: ``EdgeVectorIndex`` (the Qdrant engine
in-process through qdrant-edge-py, the embedded default) and ``QdrantVectorIndex`` (a Qdrant
server or cluster through qdrant-client; its local mode in tests). The contract suite in
``tests/search/test_vector_index.py`` runs against both, so anything said here holds for
both.

Data model: image collections hold one point per product image (dense vector ``image``),
product collections one point per product (dense ``text`` plus sparse ``keywords`` with
the IDF modifier). Every point carries ``product_id`` and the filterable fields in its
payload. Search reads through aliases, so a rebuild is made beside the live collection and
switched in one step.
"""

from __future__ import annotations

import abc
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Payload fields with an index, and the index kind. Filters only ever touch these.
PAYLOAD_INDEXES: dict[str, str] = {
    "product_id": "integer",
    "merchant_id": "integer",
    "merchant": "keyword",
    "category": "keyword",
    "brand": "keyword",
    "currency": "keyword",
    "price": "float",
    "in_stock": "bool",
    "active": "bool",
    "color": "keyword",
    "attrs": "keyword",
}

# Fields whose values get their own HNSW links (Qdrant's payload-aware graph), so that a
# filtered search on one value stays inside a connected graph instead of falling back to a
# filtered walk of the global one. Only the fields shoppers narrow by and that split the
# catalogue into large blocks; the others (ids, price, booleans, currency) would add build
# time for no search gain: ids are tiny blocks (Qdrant scans them), booleans hold most points.
HNSW_PAYLOAD_FIELDS = frozenset({"category", "brand", "merchant"})

# HNSW parameters shared by both backends, chosen with bench/vector_index.py.
HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
HNSW_EF_SEARCH = 128
# Grouped queries ask the engine for this many points per product wanted at first, until
# they have seen how many points per product a collection's top results hold (GroupFetchSizer),
# and grow the fetch until enough distinct products come back.
GROUP_OVERFETCH = 4
GROUP_FETCH_MIN = 64

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class VectorStoreUnavailable(RuntimeError):
    """The vector store cannot be reached or opened (the API answers 503)."""


class CollectionNotFound(LookupError):
    """The collection or alias named does not exist."""


@dataclass(frozen=True)
class SearchFilter:
    """What a query is narrowed to. ``active=True`` is always applied by the backends."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    merchant: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    in_stock: bool | None = None
    exclude_product_ids: tuple[int, ...] = ()
    product_ids: tuple[int, ...] = ()
    colors: tuple[str, ...] = ()  # any of them (the merchant's colour, else the derived ones)
    # (attribute, values): any of the values of each attribute, every attribute named.
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()


NO_FILTER = SearchFilter()


@dataclass(frozen=True)
class SparseVec:
    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError("a sparse vector needs as many values as indices")


@dataclass(frozen=True)
class PointData:
    id: str
    vectors: dict[str, np.ndarray | SparseVec]
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict


RetrievedPoint = tuple[str, dict, "dict[str, np.ndarray | SparseVec] | None"]


@dataclass(frozen=True)
class NearestRequest:
    """A nearest-neighbour query as the backends receive it: the vector checked (a dense one
    as a list of floats), the payload keys chosen."""

    vector_name: str
    vector: list[float] | SparseVec
    filter: SearchFilter
    exact: bool
    score_threshold: float | None
    with_payload: bool | list[str]


class VectorIndex(abc.ABC):
    """A store of named vectors with payloads, filtered nearest-neighbour search and aliases.

    ``collection_or_alias`` arguments accept an alias or a collection name; aliases are
    resolved when the call is made. An unknown name raises :class:`CollectionNotFound`.
    """

    _group_sizer: GroupFetchSizer

    @abc.abstractmethod
    def ensure_collection(
        self, name: str, *, dense: dict[str, int], sparse: tuple[str, ...] = ()
    ) -> None:
        """Create the collection with its payload indexes if it is missing.

        ``dense`` maps vector names to dimensions (cosine distance); ``sparse`` names sparse
        vectors, which get the IDF modifier. Calling it again with the same shape does
        nothing; another shape raises ``ValueError``.
        """

    @abc.abstractmethod
    def collection_exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def delete_collection(self, name: str) -> None:
        """Delete the collection (and the aliases pointing at it); a missing one is fine."""

    @abc.abstractmethod
    def list_collections(self) -> list[str]:
        """Collection names, sorted."""

    @abc.abstractmethod
    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` in one step: readers see the old or the new one."""

    @abc.abstractmethod
    def resolve_alias(self, alias: str) -> str | None: ...

    @abc.abstractmethod
    def upsert(self, collection_or_alias: str, points: Sequence[PointData]) -> None: ...

    @abc.abstractmethod
    def set_payload(self, collection_or_alias: str, payload: dict, *, product_id: int) -> None:
        """Set ``payload``'s fields on every point of the product (other fields are kept)."""

    @abc.abstractmethod
    def delete_points(
        self,
        collection_or_alias: str,
        *,
        ids: Sequence[str] = (),
        product_id: int | None = None,
    ) -> None:
        """Delete the points named, and/or every point of the product."""

    @abc.abstractmethod
    def retrieve(
        self, collection_or_alias: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[RetrievedPoint]:
        """``(id, payload, vectors or None)`` for the ids that exist, in the order asked."""

    @abc.abstractmethod
    def scroll(self, collection_or_alias: str) -> Iterator[tuple[str, dict]]:
        """``(id, payload)`` of every point, inactive included, page by page in id order
        (for consistency checks against the database)."""

    @abc.abstractmethod
    def scroll_product_vectors(
        self, collection_or_alias: str, product_id: int, vector: str
    ) -> list[tuple[str, np.ndarray, dict]]:
        """Every point of one product with its ``vector``, sorted by id (inactive included)."""

    def query(
        self,
        collection_or_alias: str,
        *,
        vector_name: str,
        vector: np.ndarray | SparseVec,
        filter: SearchFilter,
        limit: int,
        offset: int = 0,
        group_by_product: bool = True,
        exact: bool = False,
        score_threshold: float | None = None,
        payload_fields: Sequence[str] | None = None,
    ) -> list[Hit]:
        """Nearest points to ``vector`` among the active ones matching ``filter``.

        With ``group_by_product`` a product appears once, as its best point, and products are
        ordered by score descending then product_id ascending, so pages do not overlap;
        ``offset`` and ``limit`` then count products. ``exact`` searches exhaustively.
        ``payload_fields`` limits the payload returned to those keys (``product_id`` is always
        included): reading payloads is most of a deep query's cost (bench/search.md).

        The checks, payload selection and grouping are the same for every backend; a backend
        implements only the nearest-neighbour call, :meth:`_nearest`.
        """
        check_query_args(limit, offset)
        if isinstance(vector, SparseVec):
            if not vector.indices:
                return []
            query_vector: list[float] | SparseVec = vector
        else:
            query_vector = dense_as_list(vector_name, vector)
        request = NearestRequest(
            vector_name=vector_name,
            vector=query_vector,
            filter=filter,
            exact=exact,
            score_threshold=score_threshold,
            with_payload=payload_selection(payload_fields),
        )

        def fetch(n: int, skip: int = 0) -> list[Hit]:
            return self._nearest(collection_or_alias, request, limit=n, offset=skip)

        if group_by_product:
            return group_hits(
                fetch,
                offset=offset,
                limit=limit,
                sizer=self._group_sizer,
                collection=self._collection_name(collection_or_alias),
            )
        return fetch(limit, offset)

    @abc.abstractmethod
    def _nearest(
        self, collection_or_alias: str, request: NearestRequest, *, limit: int, offset: int
    ) -> list[Hit]:
        """The ``limit`` nearest points after ``offset``, best first (no grouping)."""

    def _collection_name(self, collection_or_alias: str) -> str:
        """The name grouped-fetch sizes are learned under (backends may resolve aliases)."""
        return collection_or_alias

    @abc.abstractmethod
    def count(self, collection_or_alias: str, filter: SearchFilter) -> int:
        """Number of active points matching ``filter``."""

    @abc.abstractmethod
    def facets(
        self, collection_or_alias: str, key: str, filter: SearchFilter, limit: int = 50
    ) -> dict[str, int]:
        """Points per value of the keyword field ``key`` among active points matching ``filter``,
        the most frequent first."""

    def optimize(self, collection_or_alias: str) -> None:  # noqa: B027 (optional hook)
        """Build the search index now, after a bulk load. Backends that do it themselves
        (a Qdrant server's background optimizers) need not act."""

    @abc.abstractmethod
    def close(self) -> None: ...


# --- helpers for the backends --------------------------------------------------------


def check_name(name: str) -> str:
    """Collection and alias names become directory names in the embedded backend: keep them
    to letters, digits, ``_ . -``."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"invalid collection or alias name: {name!r}")
    return name


def check_point_id(point_id: str) -> str:
    """Point ids are UUID strings (uuid5 of the row id and model); return the canonical form."""
    try:
        return str(uuid.UUID(str(point_id)))
    except ValueError:
        raise ValueError(f"point id must be a UUID string, got {point_id!r}") from None


def dense_as_list(name: str, value: np.ndarray | Sequence[float]) -> list[float]:
    array = np.asarray(value, dtype=np.float32)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ValueError(f"vector {name!r} must be a finite 1-d array")
    return array.tolist()


def payload_selection(payload_fields: Sequence[str] | None) -> bool | list[str]:
    """What to ask the engine for: everything, or the named keys and ``product_id``."""
    if payload_fields is None:
        return True
    return list(dict.fromkeys(("product_id", *payload_fields)))


# A filter as backend-neutral conditions: ("match", key, value), ("any", key, values) or
# ("range", key, (gte, lte)); each backend turns them into its own types.
Condition = tuple[str, str, object]


def filter_conditions(f: SearchFilter) -> tuple[list[Condition], list[Condition]]:
    """``(must, must_not)`` of a filter; inactive products are always left out."""
    must: list[Condition] = [("match", "active", True)]
    must_not: list[Condition] = []
    if f.categories:
        must.append(("any", "category", list(f.categories)))
    if f.brands:
        must.append(("any", "brand", list(f.brands)))
    if f.colors:
        must.append(("any", "color", list(f.colors)))
    for name, values in f.attributes:
        must.append(("any", "attrs", [f"{name}:{value}" for value in values]))
    if f.merchant is not None:
        must.append(("match", "merchant", f.merchant))
    if f.price_min is not None or f.price_max is not None:
        low = None if f.price_min is None else float(f.price_min)
        high = None if f.price_max is None else float(f.price_max)
        must.append(("range", "price", (low, high)))
    if f.in_stock is not None:
        must.append(("match", "in_stock", bool(f.in_stock)))
    if f.product_ids:
        must.append(("any", "product_id", [int(i) for i in f.product_ids]))
    if f.exclude_product_ids:
        must_not.append(("any", "product_id", [int(i) for i in f.exclude_product_ids]))
    return must, must_not


def product_conditions(product_id: int) -> list[Condition]:
    """Every point of one product (payload updates and deletes)."""
    return [("match", "product_id", int(product_id))]


def retrieved_in_order(
    wanted: Sequence[str], records: Iterable[Any], with_vectors: bool, sparse_type: type[Any]
) -> list[RetrievedPoint]:
    """``(id, payload, vectors or None)`` of the records, in the order of ``wanted``."""
    found = {str(r.id): r for r in records}
    return [
        (
            pid,
            dict(found[pid].payload or {}),
            vectors_from(found[pid].vector, sparse_type) if with_vectors else None,
        )
        for pid in wanted
        if pid in found
    ]


def vectors_from(raw: object, sparse_type: type[Any]) -> dict[str, np.ndarray | SparseVec]:
    """A record's named vectors: the backend's sparse vectors as SparseVec, dense as float32."""
    out: dict[str, np.ndarray | SparseVec] = {}
    if isinstance(raw, dict):
        for name, value in raw.items():
            if isinstance(value, sparse_type):
                out[name] = SparseVec(tuple(value.indices), tuple(float(v) for v in value.values))
            else:
                out[name] = np.asarray(value, dtype=np.float32)
    return out


def product_vector_rows(records: Iterable[Any], vector: str) -> list[tuple[str, np.ndarray, dict]]:
    """``(id, vector, payload)`` of the scrolled records that have ``vector``."""
    rows = []
    for record in records:
        values = record.vector.get(vector) if isinstance(record.vector, dict) else None
        if values is not None:
            rows.append(
                (str(record.id), np.asarray(values, dtype=np.float32), dict(record.payload or {}))
            )
    return rows


def facet_counts(hits: Iterable[Any]) -> dict[str, int]:
    """Facet hits as ``{value: count}``, the most frequent first, ties by value."""
    ordered = sorted(hits, key=lambda h: (-h.count, str(h.value)))
    return {str(h.value): int(h.count) for h in ordered}


def check_query_args(limit: int, offset: int) -> None:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if offset < 0:
        raise ValueError("offset must not be negative")


class GroupFetchSizer:
    """How many points a grouped query fetches first, learned per collection.

    Most of a deep grouped query's cost is per point returned (their payloads, in qdrant-edge
    ~8 us each: bench/search.md), so fetching four points per product wanted when a catalogue
    has one or two images per product doubles the query's cost. The sizer keeps a moving
    average of the points per distinct product that earlier fetches of the collection held
    and asks for that many, with a margin. A short first fetch costs a second one, never a
    wrong answer: ``group_hits`` grows the fetch until the page is settled.
    """

    MARGIN = 1.25  # asked for beyond the average, so that most first fetches settle the page
    SMOOTHING = 0.2  # weight of the newest observation in the moving average

    def __init__(self, initial: float = GROUP_OVERFETCH) -> None:
        self._initial = float(initial)
        self._ratio: dict[str, float] = {}

    def first_fetch(self, collection: str, wanted: int) -> int:
        ratio = self._ratio.get(collection, self._initial)
        return max(GROUP_FETCH_MIN, math.ceil(wanted * ratio * self.MARGIN))

    def observe(self, collection: str, points: int, products: int) -> None:
        if products < 1:
            return
        seen = max(1.0, points / products)
        before = self._ratio.get(collection)
        # Under the GIL a lost update is harmless: the next query corrects it.
        self._ratio[collection] = (
            seen if before is None else before + self.SMOOTHING * (seen - before)
        )


def group_hits(
    fetch: Callable[[int], list[Hit]],
    *,
    offset: int,
    limit: int,
    sizer: GroupFetchSizer,
    collection: str,
) -> list[Hit]:
    """One hit per product: page ``offset:offset+limit`` of products ranked by their best point.

    ``fetch(n)`` returns the ``n`` nearest points, best first. Grouping happens here rather
    than in the engine (edge has no group-by; the server's query_points_groups has no offset
    and breaks ties at the page edge arbitrarily), the same way for both backends.

    The fetch grows until it is exhausted or the last wanted product scores strictly more
    than the last point fetched: any point not fetched scores no more than that one, so the
    page is settled, ties included. For an exact search this gives exactly the brute-force
    grouped ranking; for HNSW it is as good as the engine's answer. ``sizer`` chooses the
    first fetch's size from earlier queries of ``collection`` and learns from this one.
    """
    wanted = offset + limit
    size = sizer.first_fetch(collection, wanted)
    while True:
        hits = fetch(size)
        best: dict[int, Hit] = {}
        for hit in hits:
            product_id = hit.payload["product_id"]
            current = best.get(product_id)
            # Among equal scores of one product the smallest point id wins (deterministic).
            if current is None or (-hit.score, hit.id) < (-current.score, current.id):
                best[product_id] = hit
        ranked = sorted(best.values(), key=lambda h: (-h.score, h.payload["product_id"]))
        exhausted = len(hits) < size
        if not exhausted:
            sizer.observe(collection, len(hits), len(best))
        if exhausted or (len(ranked) >= wanted and ranked[wanted - 1].score > hits[-1].score):
            return ranked[offset:wanted]
        # Short: ask for enough by what this fetch held per product, at least twice as many.
        per_product = len(hits) / max(1, len(best))
        size = max(size * 2, math.ceil(wanted * per_product * GroupFetchSizer.MARGIN))
