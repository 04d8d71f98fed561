"""The server backend: a Qdrant server or cluster through qdrant-client.

``QdrantVectorIndex(url=...)`` talks to a server (REST); ``QdrantVectorIndex(path=...)`` uses
qdrant-client's local mode, which takes the same calls and is what the tests run (it is a
brute-force Python engine: fine for hundreds of points, far too slow for a catalogue).

Collections are created with the cluster settings (shards, replicas, write consistency);
writes wait for the operation to be applied, ordered through the shard leader, so a payload
update (say, a product deactivated) is never overtaken by an older upsert. Connection
failures, timeouts and 5xx answers become :class:`VectorStoreUnavailable` (the API's 503).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import httpx
import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from . import base
from .base import (
    CollectionNotFound,
    Hit,
    PointData,
    SearchFilter,
    SparseVec,
    VectorIndex,
    VectorStoreUnavailable,
)

logger = logging.getLogger(__name__)

UPSERT_BATCH = 256
SCROLL_BATCH = 256
SCROLL_PAGE = 1024
# Medium: writes go through a leader so they keep their order, and stay available when a
# node fails (strong would refuse writes until the permanent leader is back).
WRITE_ORDERING = models.WriteOrdering.MEDIUM

_SCHEMA: dict[str, Callable[[bool], models.PayloadSchemaParams]] = {
    "integer": lambda hnsw: models.IntegerIndexParams(
        type=models.IntegerIndexType.INTEGER, lookup=True, range=False, enable_hnsw=hnsw
    ),
    "keyword": lambda hnsw: models.KeywordIndexParams(
        type=models.KeywordIndexType.KEYWORD, enable_hnsw=hnsw
    ),
    "float": lambda hnsw: models.FloatIndexParams(
        type=models.FloatIndexType.FLOAT, enable_hnsw=hnsw
    ),
    "bool": lambda hnsw: models.BoolIndexParams(type=models.BoolIndexType.BOOL, enable_hnsw=hnsw),
}


def write_consistency_factor(setting: str | int, replication_factor: int) -> int:
    """``QDRANT_WRITE_CONSISTENCY``: "majority", "all", "one" or a number of replicas."""
    value = str(setting).strip().lower()
    if value == "majority":
        return replication_factor // 2 + 1
    if value == "all":
        return replication_factor
    if value == "one":
        return 1
    number = int(value)
    if not 1 <= number <= replication_factor:
        raise ValueError(
            f"write consistency {number} must be between 1 and the replication factor "
            f"{replication_factor}"
        )
    return number


class QdrantVectorIndex(VectorIndex):
    def __init__(
        self,
        *,
        url: str | None = None,
        path: str | None = None,
        api_key: str | None = None,
        shard_number: int = 1,
        replication_factor: int = 1,
        write_consistency: str | int = "majority",
        timeout: int = 10,
        hnsw_ef: int = base.HNSW_EF_SEARCH,
    ) -> None:
        if bool(url) == bool(path):
            raise ValueError("give the Qdrant server url or a local-mode path (one of them)")
        self.local = bool(path)
        self.shard_number = shard_number
        self.replication_factor = replication_factor
        self.write_consistency_factor = write_consistency_factor(
            write_consistency, replication_factor
        )
        self.hnsw_ef = hnsw_ef
        self._group_sizer = base.GroupFetchSizer()
        # Local mode is not thread-safe; a server client is.
        self._local_lock = threading.RLock() if self.local else None
        if self.local:
            self.client = QdrantClient(path=str(path), force_disable_check_same_thread=True)
        else:
            # No version check at start: it would block the first request while the server is
            # down; a failure shows on the first call (and in /readyz) instead.
            self.client = QdrantClient(
                url=url, api_key=api_key, timeout=timeout, check_compatibility=False
            )

    # --- collections ---------------------------------------------------------------------

    def ensure_collection(
        self, name: str, *, dense: dict[str, int], sparse: tuple[str, ...] = ()
    ) -> None:
        base.check_name(name)
        if not dense and not sparse:
            raise ValueError("a collection needs at least one vector")
        dims = {vector: int(dim) for vector, dim in dense.items()}
        wanted = {"dense": dims, "sparse": sorted(sparse)}
        with self._call(name):
            if self.resolve_alias(name) is not None:
                raise ValueError(f"{name!r} is an alias; a collection cannot take its name")
            if not self._is_collection(name):
                try:
                    self.client.create_collection(
                        name,
                        vectors_config={
                            vector: models.VectorParams(size=dim, distance=models.Distance.COSINE)
                            for vector, dim in dims.items()
                        },
                        sparse_vectors_config={
                            vector: models.SparseVectorParams(modifier=models.Modifier.IDF)
                            for vector in sorted(sparse)
                        },
                        shard_number=self.shard_number,
                        replication_factor=self.replication_factor,
                        write_consistency_factor=self.write_consistency_factor,
                        hnsw_config=models.HnswConfigDiff(
                            m=base.HNSW_M, ef_construct=base.HNSW_EF_CONSTRUCT
                        ),
                    )
                    logger.info("created vector collection %s", name)
                except (UnexpectedResponse, ValueError):
                    # Another worker created it first: fall through to the shape check.
                    if not self._is_collection(name):
                        raise
            info = self.client.get_collection(name)
            existing = _shape(info)
            if existing != wanted:
                raise ValueError(
                    f"collection {name!r} exists with vectors {existing}, not {wanted}"
                )
            # Indexes before data, so HNSW is built with the payload-aware links; missing ones
            # are added (idempotent on the server).
            have = set((info.payload_schema or {}).keys())
            with warnings.catch_warnings():
                # Local mode warns that payload indexes do nothing there (it scans everything).
                warnings.simplefilter("ignore", UserWarning)
                for field, kind in base.PAYLOAD_INDEXES.items():
                    if field not in have:
                        self.client.create_payload_index(
                            name,
                            field,
                            field_schema=_SCHEMA[kind](field in base.HNSW_PAYLOAD_FIELDS),
                            wait=True,
                            ordering=WRITE_ORDERING,
                        )

    def collection_exists(self, name: str) -> bool:
        with self._call(name):
            return self._is_collection(name)

    def delete_collection(self, name: str) -> None:
        base.check_name(name)
        with self._call(name):
            # The server and local mode drop the aliases that point at it.
            self.client.delete_collection(name)

    def list_collections(self) -> list[str]:
        with self._call():
            return sorted(c.name for c in self.client.get_collections().collections)

    # --- aliases -------------------------------------------------------------------------

    def set_alias(self, alias: str, collection: str) -> None:
        base.check_name(alias)
        base.check_name(collection)
        with self._call(collection):
            if not self._is_collection(collection):
                raise CollectionNotFound(collection)
            if self._is_collection(alias):
                raise ValueError(f"{alias!r} is a collection; an alias cannot take its name")
            operations: list[models.AliasOperations] = []
            if self.resolve_alias(alias) is not None:
                operations.append(
                    models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
                )
            operations.append(
                models.CreateAliasOperation(
                    create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
                )
            )
            # One request: the server applies the delete and the create together.
            self.client.update_collection_aliases(change_aliases_operations=operations)
        logger.info("vector alias %s -> %s", alias, collection)

    def resolve_alias(self, alias: str) -> str | None:
        with self._call():
            for description in self.client.get_aliases().aliases:
                if description.alias_name == alias:
                    return description.collection_name
        return None

    # --- writes --------------------------------------------------------------------------

    def upsert(self, collection_or_alias: str, points: Sequence[PointData]) -> None:
        structs = [_point_struct(p) for p in points]
        with self._call(collection_or_alias):
            for start in range(0, len(structs), UPSERT_BATCH):
                self.client.upsert(
                    collection_or_alias,
                    points=structs[start : start + UPSERT_BATCH],
                    wait=True,
                    ordering=WRITE_ORDERING,
                )

    def set_payload(self, collection_or_alias: str, payload: dict, *, product_id: int) -> None:
        with self._call(collection_or_alias):
            self.client.set_payload(
                collection_or_alias,
                payload=payload,
                points=models.FilterSelector(filter=_product_filter(product_id)),
                wait=True,
                ordering=WRITE_ORDERING,
            )

    def delete_points(
        self,
        collection_or_alias: str,
        *,
        ids: Sequence[str] = (),
        product_id: int | None = None,
    ) -> None:
        if not ids and product_id is None:
            raise ValueError("name the points to delete: ids and/or product_id")
        canonical: list[models.ExtendedPointId] = [base.check_point_id(i) for i in ids]
        with self._call(collection_or_alias):
            if canonical:
                self.client.delete(
                    collection_or_alias,
                    points_selector=models.PointIdsList(points=canonical),
                    wait=True,
                    ordering=WRITE_ORDERING,
                )
            if product_id is not None:
                self.client.delete(
                    collection_or_alias,
                    points_selector=models.FilterSelector(filter=_product_filter(product_id)),
                    wait=True,
                    ordering=WRITE_ORDERING,
                )

    # --- reads ---------------------------------------------------------------------------

    def retrieve(
        self, collection_or_alias: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[base.RetrievedPoint]:
        wanted = [base.check_point_id(i) for i in ids]
        if not wanted:
            return []
        with self._call(collection_or_alias):
            records = self.client.retrieve(
                collection_or_alias,
                ids=list(wanted),
                with_payload=True,
                with_vectors=with_vectors,
            )
        return base.retrieved_in_order(wanted, records, with_vectors, models.SparseVector)

    def scroll(self, collection_or_alias: str) -> Iterator[tuple[str, dict]]:
        offset: models.ExtendedPointId | None = None
        while True:
            with self._call(collection_or_alias):
                records, offset = self.client.scroll(
                    collection_or_alias,
                    limit=SCROLL_PAGE,
                    offset=offset,
                    with_payload=True,
                    with_vectors=False,
                )
            for r in records:
                yield str(r.id), dict(r.payload or {})
            if offset is None:
                return

    def scroll_product_vectors(
        self, collection_or_alias: str, product_id: int, vector: str
    ) -> list[tuple[str, np.ndarray, dict]]:
        out: list[tuple[str, np.ndarray, dict]] = []
        offset: models.ExtendedPointId | None = None
        with self._call(collection_or_alias):
            while True:
                records, offset = self.client.scroll(
                    collection_or_alias,
                    scroll_filter=_product_filter(product_id),
                    limit=SCROLL_BATCH,
                    offset=offset,
                    with_payload=True,
                    with_vectors=[vector],
                )
                out.extend(base.product_vector_rows(records, vector))
                if offset is None:
                    break
        return sorted(out, key=lambda item: item[0])

    def _nearest(
        self, collection_or_alias: str, request: base.NearestRequest, *, limit: int, offset: int
    ) -> list[Hit]:
        vector = request.vector
        query_vector: models.SparseVector | list[float] = (
            models.SparseVector(
                indices=list(vector.indices), values=[float(v) for v in vector.values]
            )
            if isinstance(vector, SparseVec)
            else vector
        )
        # Local mode always searches exhaustively and warns about search params, so it gets
        # none; a server gets the tuned ef (and exact when asked).
        params = (
            None if self.local else models.SearchParams(hnsw_ef=self.hnsw_ef, exact=request.exact)
        )
        with self._call(collection_or_alias):
            response = self.client.query_points(
                collection_or_alias,
                query=query_vector,
                using=request.vector_name,
                query_filter=_qdrant_filter(request.filter),
                search_params=params,
                limit=limit,
                offset=offset or None,
                with_payload=request.with_payload,
                with_vectors=False,
                score_threshold=request.score_threshold,
            )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in response.points]

    def count(self, collection_or_alias: str, filter: SearchFilter) -> int:
        with self._call(collection_or_alias):
            result = self.client.count(
                collection_or_alias, count_filter=_qdrant_filter(filter), exact=True
            )
        return int(result.count)

    def facets(
        self, collection_or_alias: str, key: str, filter: SearchFilter, limit: int = 50
    ) -> dict[str, int]:
        with self._call(collection_or_alias):
            response = self.client.facet(
                collection_or_alias,
                key=key,
                facet_filter=_qdrant_filter(filter),
                limit=limit,
                exact=True,
            )
        return base.facet_counts(response.hits)

    def optimize(self, collection_or_alias: str) -> None:
        """Nothing to do: the server's optimizers index in the background."""

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    # --- internals -----------------------------------------------------------------------

    def _is_collection(self, name: str) -> bool:
        # Not client.collection_exists: the server answers true for an alias as well.
        return any(c.name == name for c in self.client.get_collections().collections)

    @contextlib.contextmanager
    def _call(self, name: str | None = None) -> Iterator[None]:
        """Serialise local mode; translate transport failures to VectorStoreUnavailable."""
        lock = self._local_lock or contextlib.nullcontext()
        try:
            with lock:
                yield
        except UnexpectedResponse as exc:
            status = exc.status_code
            if status == 404:
                raise CollectionNotFound(name or "") from exc
            if status is None or status >= 500 or status in (408, 429):
                raise VectorStoreUnavailable(f"Qdrant answered {status}: {exc}") from exc
            if status in (400, 409, 422):
                raise ValueError(_reason(exc)) from exc
            raise
        except ResponseHandlingException as exc:
            raise VectorStoreUnavailable(f"Qdrant cannot be reached: {exc.source!r}") from exc
        except (httpx.TransportError, ConnectionError, TimeoutError) as exc:
            raise VectorStoreUnavailable(f"Qdrant cannot be reached: {exc!r}") from exc
        except ValueError as exc:
            # Local mode reports a missing collection as ValueError("Collection x not found").
            if "not found" in str(exc) and name is not None:
                raise CollectionNotFound(name) from exc
            raise
        except Exception as exc:
            if _is_grpc_unavailable(exc):
                raise VectorStoreUnavailable(f"Qdrant cannot be reached: {exc!r}") from exc
            raise


def _is_grpc_unavailable(exc: Exception) -> bool:
    try:
        import grpc
    except ImportError:  # pragma: no cover - grpcio comes with qdrant-client
        return False
    if not isinstance(exc, grpc.RpcError):
        return False
    code = exc.code() if hasattr(exc, "code") else None
    return code in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    )


def _reason(exc: UnexpectedResponse) -> str:
    try:
        return exc.content.decode("utf-8", "replace")[:500]
    except (AttributeError, TypeError):  # no body
        return str(exc)


def _shape(info: models.CollectionInfo) -> dict:
    vectors = info.config.params.vectors
    dense = {name: int(p.size) for name, p in vectors.items()} if isinstance(vectors, dict) else {}
    sparse = sorted((info.config.params.sparse_vectors or {}).keys())
    return {"dense": dense, "sparse": sparse}


def _point_struct(point: PointData) -> models.PointStruct:
    vectors: dict[str, Any] = {}
    for name, value in point.vectors.items():
        if isinstance(value, SparseVec):
            vectors[name] = models.SparseVector(
                indices=list(value.indices), values=[float(v) for v in value.values]
            )
        else:
            vectors[name] = base.dense_as_list(name, value)
    return models.PointStruct(
        id=base.check_point_id(point.id), vector=vectors, payload=dict(point.payload)
    )


def _product_filter(product_id: int) -> models.Filter:
    return models.Filter(must=[_condition(c) for c in base.product_conditions(product_id)])


def _condition(condition: base.Condition) -> models.FieldCondition:
    kind, key, value = condition
    if kind == "match":
        return models.FieldCondition(key=key, match=models.MatchValue(value=value))  # type: ignore[arg-type]
    if kind == "any":
        return models.FieldCondition(key=key, match=models.MatchAny(any=list(value)))  # type: ignore[call-overload]
    low, high = cast(tuple[float | None, float | None], value)
    return models.FieldCondition(key=key, range=models.Range(gte=low, lte=high))


def _qdrant_filter(f: SearchFilter) -> models.Filter:
    must, must_not = base.filter_conditions(f)
    return models.Filter(
        must=[_condition(c) for c in must], must_not=[_condition(c) for c in must_not] or None
    )
