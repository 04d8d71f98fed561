"""The embedded backend: the Qdrant engine in-process through qdrant-edge-py.

One ``EdgeShard`` per collection, in ``<path>/collections/<name>/shard``, opened on first use
and kept open. Like SQLite, the store belongs to ONE process: the engine locks each shard's
write-ahead log, so a second process that opens the same directory gets
:class:`VectorStoreUnavailable`. Run the web server and inline tasks in that one process
(``make demo``); use the Qdrant server backend for several processes or machines.

Within the process it is thread-safe: Django may serve requests from several threads. The
engine takes concurrent reads and writes on a shard; a per-collection reader/writer lock
only keeps a shard from being closed (delete, close) while a call is using it.

Aliases live in ``<path>/aliases.json``, rewritten whole (temp file + ``os.replace``) under a
lock, and read (cached by inode and mtime) at every call, so a switch is atomic.

Indexing: the edge engine has no background optimizer; HNSW is built only when
``shard.optimize()`` runs. Bulk loaders call :meth:`EdgeVectorIndex.optimize` when done; for
the trickle of single uploads a background thread optimizes a collection once enough points
were written to it and writes have been quiet for a few seconds (so a bulk load is not
re-indexed over and over while it runs).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import numpy as np
import qdrant_edge as qe

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

# Segments smaller than this (KB of vectors) stay unindexed: brute force over ~5k 512-d
# vectors takes about a millisecond, less than an HNSW walk plus the build. Qdrant's default.
INDEXING_THRESHOLD_KB = 10_000
# A filtered search whose matching points hold less than this (KB) is answered exactly from
# the payload index instead of the graph (Qdrant's default; ~5k 512-d points).
FULL_SCAN_THRESHOLD_KB = 10_000
UPSERT_BATCH = 512
SCROLL_BATCH = 256
SCROLL_PAGE = 1024

_SCHEMA = {
    "integer": qe.IntegerIndexParams,
    "keyword": qe.KeywordIndexParams,
    "float": qe.FloatIndexParams,
    "bool": qe.BoolIndexParams,
}


class _SharedExclusiveLock:
    """Many users of a shard at once, or one closer."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._closing = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._closing = True
            while self._users:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._closing = False
                self._cond.notify_all()


class _Collection:
    def __init__(self, name: str, shard: qe.EdgeShard, meta: dict) -> None:
        self.name = name
        self.shard = shard
        self.dense: dict[str, int] = meta["dense"]
        self.sparse: tuple[str, ...] = tuple(meta["sparse"])
        self.lock = _SharedExclusiveLock()
        self.closed = False
        self.optimize_lock = threading.Lock()  # one optimizer run per shard at a time
        # Bookkeeping for the background optimizer (guarded by EdgeVectorIndex._cond).
        self.unindexed_writes = 0
        self.dirty = False
        self.last_write = 0.0


class EdgeVectorIndex(VectorIndex):
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        hnsw_m: int = base.HNSW_M,
        hnsw_ef_construct: int = base.HNSW_EF_CONSTRUCT,
        hnsw_ef: int = base.HNSW_EF_SEARCH,
        hnsw_payload_fields: frozenset[str] = base.HNSW_PAYLOAD_FIELDS,
        group_overfetch: int = base.GROUP_OVERFETCH,
        optimize_after_writes: int | None = 2_000,
        optimize_quiet_seconds: float = 5.0,
        flush_interval_seconds: float = 30.0,
        indexing_threshold_kb: int = INDEXING_THRESHOLD_KB,
    ) -> None:
        self.path = Path(path)
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construct = hnsw_ef_construct
        self.hnsw_ef = hnsw_ef
        self.hnsw_payload_fields = hnsw_payload_fields
        self._group_sizer = base.GroupFetchSizer(group_overfetch)
        self.optimize_after_writes = optimize_after_writes
        self.optimize_quiet_seconds = optimize_quiet_seconds
        self.flush_interval_seconds = flush_interval_seconds
        self.indexing_threshold_kb = indexing_threshold_kb
        self._collections_dir = self.path / "collections"
        self._collections_dir.mkdir(parents=True, exist_ok=True)
        self._aliases_file = self.path / "aliases.json"
        self._lock = threading.RLock()  # the cache of open shards, creation and deletion
        self._open: dict[str, _Collection] = {}
        self._alias_cache: tuple[tuple[int, int, int], dict[str, str]] | None = None
        self._cond = threading.Condition()  # background optimizer state
        self._stopping = False
        self._worker: threading.Thread | None = None
        self._closed = False

    # --- collections ---------------------------------------------------------------------

    def ensure_collection(
        self, name: str, *, dense: dict[str, int], sparse: tuple[str, ...] = ()
    ) -> None:
        base.check_name(name)
        wanted = {"dense": {k: int(v) for k, v in dense.items()}, "sparse": sorted(sparse)}
        if not wanted["dense"] and not wanted["sparse"]:
            raise ValueError("a collection needs at least one vector")
        with self._lock:
            if name in self._read_aliases():
                raise ValueError(f"{name!r} is an alias; a collection cannot take its name")
            final = self._collections_dir / name
            if final.exists() and not (final / "collection.json").exists():
                shutil.rmtree(final)  # not ours or a crash's leftovers: no collection there
            if final.exists():
                meta = self._read_meta(final)
                if meta != wanted:
                    raise ValueError(
                        f"collection {name!r} exists with vectors {meta}, not {wanted}"
                    )
                return
            # Built in a hidden directory and renamed into place, so a crash half-way leaves
            # no collection that looks complete.
            building = self._collections_dir / f".building-{name}-{uuid.uuid4().hex[:8]}"
            try:
                shard = qe.EdgeShard.create(str(building / "shard"), self._config(wanted))
                try:
                    for field, kind in base.PAYLOAD_INDEXES.items():
                        params = _SCHEMA[kind](enable_hnsw=field in self.hnsw_payload_fields)
                        shard.update(qe.UpdateOperation.create_field_index(field, params))
                    shard.flush()
                finally:
                    shard.close()
                (building / "collection.json").write_text(json.dumps(wanted))
                os.rename(building, final)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            logger.info("created vector collection %s", name)

    def collection_exists(self, name: str) -> bool:
        return _valid_name(name) and (self._collections_dir / name / "collection.json").exists()

    def delete_collection(self, name: str) -> None:
        base.check_name(name)
        with self._lock:
            collection = self._open.pop(name, None)
            if collection is not None:
                with collection.lock.exclusive():
                    collection.closed = True
                    collection.shard.close()
            with self._alias_file_lock():
                aliases = self._read_aliases()
                kept = {a: c for a, c in aliases.items() if c != name}
                if kept != aliases:
                    self._write_aliases(kept)
            # Renamed away first (atomic), so no half-deleted directory looks like a collection.
            directory = self._collections_dir / name
            if directory.exists():
                doomed = self._collections_dir / f".deleting-{name}-{uuid.uuid4().hex[:8]}"
                os.rename(directory, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
            logger.info("deleted vector collection %s", name)

    def list_collections(self) -> list[str]:
        return sorted(
            entry.name
            for entry in self._collections_dir.iterdir()
            if not entry.name.startswith(".") and (entry / "collection.json").exists()
        )

    # --- aliases -------------------------------------------------------------------------

    def set_alias(self, alias: str, collection: str) -> None:
        base.check_name(alias)
        base.check_name(collection)
        with self._lock, self._alias_file_lock():
            if not self.collection_exists(collection):
                raise CollectionNotFound(collection)
            if self.collection_exists(alias):
                raise ValueError(f"{alias!r} is a collection; an alias cannot take its name")
            aliases = self._read_aliases()
            aliases[alias] = collection
            self._write_aliases(aliases)
        logger.info("vector alias %s -> %s", alias, collection)

    def resolve_alias(self, alias: str) -> str | None:
        return self._read_aliases().get(alias)

    # --- writes --------------------------------------------------------------------------

    def upsert(self, collection_or_alias: str, points: Sequence[PointData]) -> None:
        with self._use(collection_or_alias) as col:
            for start in range(0, len(points), UPSERT_BATCH):
                batch = [self._point(col, p) for p in points[start : start + UPSERT_BATCH]]
                col.shard.update(qe.UpdateOperation.upsert_points(batch))
            self._wrote(col, len(points))

    def set_payload(self, collection_or_alias: str, payload: dict, *, product_id: int) -> None:
        with self._use(collection_or_alias) as col:
            col.shard.update(
                qe.UpdateOperation.set_payload_by_filter(_product_filter(product_id), payload)
            )
            self._wrote(col, 0)

    def delete_points(
        self,
        collection_or_alias: str,
        *,
        ids: Sequence[str] = (),
        product_id: int | None = None,
    ) -> None:
        if not ids and product_id is None:
            raise ValueError("name the points to delete: ids and/or product_id")
        with self._use(collection_or_alias) as col:
            if ids:
                canonical: list[qe.PointId] = [base.check_point_id(i) for i in ids]
                col.shard.update(qe.UpdateOperation.delete_points(canonical))
            if product_id is not None:
                col.shard.update(
                    qe.UpdateOperation.delete_points_by_filter(_product_filter(product_id))
                )
            self._wrote(col, 0)

    def optimize(self, collection_or_alias: str) -> None:
        with self._use(collection_or_alias) as col:
            self._optimize(col)

    # --- reads ---------------------------------------------------------------------------

    def retrieve(
        self, collection_or_alias: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[base.RetrievedPoint]:
        wanted = [base.check_point_id(i) for i in ids]
        if not wanted:
            return []
        with self._use(collection_or_alias) as col:
            records = col.shard.retrieve(list(wanted), with_payload=True, with_vector=with_vectors)
        return base.retrieved_in_order(wanted, records, with_vectors, qe.SparseVector)

    def scroll(self, collection_or_alias: str) -> Iterator[tuple[str, dict]]:
        offset: qe.PointId | None = None
        while True:
            # The shard is held per page, not while the caller works between pages.
            with self._use(collection_or_alias) as col:
                records, offset = col.shard.scroll(
                    qe.ScrollRequest(
                        offset=offset, limit=SCROLL_PAGE, with_payload=True, with_vector=False
                    )
                )
            for r in records:
                yield str(r.id), dict(r.payload or {})
            if offset is None:
                return

    def scroll_product_vectors(
        self, collection_or_alias: str, product_id: int, vector: str
    ) -> list[tuple[str, np.ndarray, dict]]:
        out: list[tuple[str, np.ndarray, dict]] = []
        with self._use(collection_or_alias) as col:
            offset: qe.PointId | None = None
            while True:
                records, offset = col.shard.scroll(
                    qe.ScrollRequest(
                        offset=offset,
                        limit=SCROLL_BATCH,
                        filter=_product_filter(product_id),
                        with_payload=True,
                        with_vector=[vector],
                    )
                )
                out.extend(base.product_vector_rows(records, vector))
                if offset is None:
                    break
        return sorted(out, key=lambda item: item[0])

    def _nearest(
        self, collection_or_alias: str, request: base.NearestRequest, *, limit: int, offset: int
    ) -> list[Hit]:
        vector = request.vector
        query_vector: qe.NamedVector = (
            qe.SparseVector(list(vector.indices), [float(v) for v in vector.values])
            if isinstance(vector, SparseVec)
            else vector
        )
        with self._use(collection_or_alias) as col:
            if request.vector_name not in col.dense and request.vector_name not in col.sparse:
                raise ValueError(f"collection {col.name!r} has no vector {request.vector_name!r}")
            points = col.shard.query(
                qe.QueryRequest(
                    limit=limit,
                    offset=offset,
                    query=qe.Query.Nearest(query_vector, using=request.vector_name),
                    filter=_edge_filter(request.filter),
                    with_payload=request.with_payload,
                    with_vector=False,
                    score_threshold=request.score_threshold,
                    params=qe.SearchParams(hnsw_ef=self.hnsw_ef, exact=request.exact),
                )
            )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def _collection_name(self, collection_or_alias: str) -> str:
        return self._read_aliases().get(collection_or_alias, collection_or_alias)

    def count(self, collection_or_alias: str, filter: SearchFilter) -> int:
        with self._use(collection_or_alias) as col:
            return int(col.shard.count(qe.CountRequest(exact=True, filter=_edge_filter(filter))))

    def facets(
        self, collection_or_alias: str, key: str, filter: SearchFilter, limit: int = 50
    ) -> dict[str, int]:
        with self._use(collection_or_alias) as col:
            response = col.shard.facet(
                qe.FacetRequest(key=key, limit=limit, exact=True, filter=_edge_filter(filter))
            )
        return base.facet_counts(response.hits)

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join()
        with self._lock:
            for collection in self._open.values():
                with collection.lock.exclusive():
                    collection.closed = True
                    collection.shard.flush()
                    collection.shard.close()
            self._open.clear()
            self._closed = True

    # --- internals -----------------------------------------------------------------------

    def _config(self, meta: dict) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors={
                name: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)
                for name, dim in meta["dense"].items()
            },
            sparse_vectors={
                name: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf) for name in meta["sparse"]
            },
            hnsw_config=qe.HnswIndexConfig(
                m=self.hnsw_m,
                ef_construct=self.hnsw_ef_construct,
                full_scan_threshold=FULL_SCAN_THRESHOLD_KB,
            ),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=self.indexing_threshold_kb),
        )

    @staticmethod
    def _read_meta(directory: Path) -> dict:
        meta = json.loads((directory / "collection.json").read_text())
        return {"dense": dict(meta["dense"]), "sparse": sorted(meta["sparse"])}

    @contextlib.contextmanager
    def _use(self, collection_or_alias: str) -> Iterator[_Collection]:
        """Resolve the alias now and hold the shard open for the duration of the call."""
        while True:
            col = self._collection(collection_or_alias)
            with col.lock.shared():
                if col.closed:  # deleted between lookup and use: look it up again
                    continue
                yield col
                return

    def _collection(self, collection_or_alias: str) -> _Collection:
        if self._closed:
            raise VectorStoreUnavailable("the vector index is closed")
        name = self._read_aliases().get(collection_or_alias, collection_or_alias)
        col = self._open.get(name)
        if col is not None:
            return col
        with self._lock:
            col = self._open.get(name)
            if col is not None:
                return col
            if not self.collection_exists(name):
                raise CollectionNotFound(collection_or_alias)
            directory = self._collections_dir / name
            try:
                shard = qe.EdgeShard.load(str(directory / "shard"))
            except Exception as exc:
                if "WouldBlock" in str(exc):  # the WAL is locked by another process
                    raise VectorStoreUnavailable(
                        f"vector collection {name} is open in another process; the embedded "
                        "backend belongs to one process (use the Qdrant server for several)"
                    ) from exc
                raise
            col = _Collection(name, shard, self._read_meta(directory))
            self._open[name] = col
            return col

    def _point(self, col: _Collection, point: PointData) -> qe.Point:
        vectors: dict[str, qe.NamedVector] = {}
        for name, value in point.vectors.items():
            if isinstance(value, SparseVec):
                if name not in col.sparse:
                    raise ValueError(f"collection {col.name!r} has no sparse vector {name!r}")
                vectors[name] = qe.SparseVector(
                    list(value.indices), [float(v) for v in value.values]
                )
            else:
                dim = col.dense.get(name)
                if dim is None:
                    raise ValueError(f"collection {col.name!r} has no dense vector {name!r}")
                as_list = base.dense_as_list(name, value)
                if len(as_list) != dim:
                    raise ValueError(f"vector {name!r} has {len(as_list)} dimensions, not {dim}")
                vectors[name] = as_list
        return qe.Point(base.check_point_id(point.id), vectors, dict(point.payload))

    # Durability: every update is in the write-ahead log before update() returns, as with a
    # Qdrant server, so a write survives the process dying. Flushing segments per write would
    # cost a segment sync each time (~0.1 s at 20k points); instead the background thread
    # flushes a collection once writes pause, optimize() and close() flush, and the WAL is
    # replayed on the next load for whatever came after. The data is derived from PostgreSQL
    # and the periodic sweep re-enqueues anything missing, so the rare loss (power cut before
    # the OS writes the WAL pages) repairs itself.
    def _wrote(self, col: _Collection, points: int) -> None:
        with self._cond:
            col.unindexed_writes += points
            col.dirty = True
            col.last_write = time.monotonic()
            if self._worker is None and not self._stopping:
                self._worker = threading.Thread(
                    target=self._background, name="vector-index-optimizer", daemon=True
                )
                self._worker.start()
            self._cond.notify_all()

    def _optimize(self, col: _Collection) -> None:
        with self._cond:
            col.unindexed_writes = 0
            col.dirty = False
        started = time.monotonic()
        with col.optimize_lock:
            changed = col.shard.optimize()
            col.shard.flush()
        if changed:
            logger.info(
                "optimized vector collection %s in %.1fs", col.name, time.monotonic() - started
            )

    def _background(self) -> None:
        """Optimize collections that received enough writes, flush the ones with writes, once
        each has been quiet for a while."""
        while True:
            with self._cond:
                if self._stopping:
                    return
                due, wait = self._next_due(time.monotonic())
                if due is None:
                    self._cond.wait(timeout=wait)
                    continue
            col, optimize = due
            try:
                with col.lock.shared():
                    if col.closed:
                        continue
                    if optimize:
                        self._optimize(col)
                    else:
                        with self._cond:
                            col.dirty = False
                        col.shard.flush()
            except Exception:  # keep the thread alive; the next write tries again
                logger.exception("background maintenance of %s failed", col.name)

    def _next_due(self, now: float) -> tuple[tuple[_Collection, bool] | None, float | None]:
        wait: float | None = None
        for col in list(self._open.values()):
            if not col.dirty or col.closed:
                continue
            optimize = (
                self.optimize_after_writes is not None
                and col.unindexed_writes >= self.optimize_after_writes
            )
            quiet = self.optimize_quiet_seconds if optimize else self.flush_interval_seconds
            remaining = col.last_write + quiet - now
            if remaining <= 0:
                return (col, optimize), None
            wait = remaining if wait is None else min(wait, remaining)
        return None, wait

    # aliases.json: {"alias": "collection"}
    def _read_aliases(self) -> dict[str, str]:
        try:
            st = os.stat(self._aliases_file)
        except FileNotFoundError:
            return {}
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._alias_cache
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        aliases = json.loads(self._aliases_file.read_text() or "{}")
        self._alias_cache = (key, aliases)
        return dict(aliases)

    def _write_aliases(self, aliases: dict[str, str]) -> None:
        tmp = self._aliases_file.with_name(f".aliases-{uuid.uuid4().hex}.json")
        with open(tmp, "w") as f:
            json.dump(aliases, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._aliases_file)
        dir_fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextlib.contextmanager
    def _alias_file_lock(self) -> Iterator[None]:
        # Read-modify-write of the alias file, also against a management command in another
        # process (which may switch aliases without opening any shard).
        with open(self.path / "aliases.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _valid_name(name: str) -> bool:
    try:
        base.check_name(name)
    except ValueError:
        return False
    return True


def _product_filter(product_id: int) -> qe.Filter:
    return qe.Filter(must=[_condition(c) for c in base.product_conditions(product_id)])


def _match(value: object) -> qe.MatchValue:
    # qdrant-edge-py 0.9 reads a MatchValue as str, then int, then bool; Python's True is an
    # int, so MatchValue(True) becomes MatchValue(1) and matches no boolean at all. numpy's
    # bool is not an int and reaches the bool case. (The filter tests catch a regression.)
    if isinstance(value, bool):
        return qe.MatchValue(np.bool_(value))  # type: ignore[arg-type]
    return qe.MatchValue(value)  # type: ignore[arg-type]


def _condition(condition: base.Condition) -> qe.FieldCondition:
    kind, key, value = condition
    if kind == "match":
        return qe.FieldCondition(key, match=_match(value))
    if kind == "any":
        return qe.FieldCondition(key, match=qe.MatchAny(list(value)))  # type: ignore[call-overload]
    low, high = cast(tuple[float | None, float | None], value)
    return qe.FieldCondition(key, range=qe.RangeFloat(gte=low, lte=high))


def _edge_filter(f: SearchFilter) -> qe.Filter:
    must, must_not = base.filter_conditions(f)
    return qe.Filter(
        must=[_condition(c) for c in must], must_not=[_condition(c) for c in must_not] or None
    )
