"""Search endpoint benchmark: latency over HTTP next to the time of its stages, requests/s.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/search.py [--products 100000] [--images 300000]
        [--queries 120] [--duration 10] [--torch-threads 1] [--text-vectors templates|minilm]
        [--sqlite] [--keep] [--quick]

The embedded default (`make demo`), built in a temporary directory (tmpfs where there is one):
an SQLite database migrated with the project's migrations (with DATABASE_URL set to a
PostgreSQL server: a scratch database created there and dropped afterwards; --sqlite ignores
DATABASE_URL), the qdrant-edge vector store, the local media folder. It loads P products and
N product images with bulk_create (file names point at a few real JPEGs), writes their points
straight into the live collections with the indexing service's point ids and payloads
(search.index.sync, search.index.generations: IndexGeneration rows, aliases), then optimize()s:

  image points    clustered random 512-d vectors (1,000 clusters, a cluster mostly one
                  category; a product's images near the product), as in bench/vector_index.py
  product points  real BM25 keyword vectors of each product's text; text vectors either
                  MiniLM of a few thousand distinct product titles plus a little noise
                  (--text-vectors templates, the default: MiniLM on all 100k products takes
                  ~15 minutes on 2 shared cores) or MiniLM of every product's text (minilm)

Models: a randomly initialised CLIP of ViT-B/32 size (bench/indexing.py's helper; its
tokenizer has a character-level vocabulary, so a query of 3 words is ~20 tokens where the
real BPE gives ~5: the text tower is timed on longer inputs than real ones) and the bundled
MiniLM. Nothing is downloaded.

Then the build process closes the store (it belongs to one process) and starts the server as
production runs it: gunicorn -c deploy/gunicorn.conf.py config.wsgi, ONE worker (the embedded
store allows one process) with 4 threads, DJANGO_DEBUG=0, throttles out of the way.
TORCH_THREADS is 1 for both processes unless --torch-threads says otherwise: on 2 shared cores,
torch's default (2 OpenMP threads, whose barriers wait for a neighbour's descheduled thread)
made the same encode swing 10x from one minute to the next.

Measured in the same run:

  engine alone    in this process, before the server starts: the vector-store calls a search
                  makes (image leg top 20 and at fusion depth, product-text and keyword legs,
                  grouped as search() asks and ungrouped, totals and facets), real query vectors
  endpoint        POST /api/v1/search/ over HTTP with keep-alive, one client: text (JSON),
                  photo (multipart 640x480 JPEG) and hybrid queries, each with a category
                  filter, fresh words every time (the embedding cache would hide the encoders);
                  client wall time and the response's took_ms and stages; then half the texts
                  again (cache hits), and a few 12-megapixel phone-camera JPEGs
  encoder alone   in this process, interleaved with the endpoint (each request is followed by
                  the same encode here, so drifting load hits both alike): the encode stage's
                  work (CLIP text + MiniLM + keyword vector; CLIP on the decoded photo), and
                  the text work with MiniLM in a second thread while CLIP runs
  text legs       a text query with only the image leg (weights image 1, text 0, keywords 0)
                  against the default fused query, alternating, fresh words each time
  concurrency     4 clients (threads) for --duration seconds per query kind: requests/s,
                  p50/p95
  understanding   text queries with SEARCH_QUERY_UNDERSTANDING off and on (identifier lookup,
                  typo correction, recognised words), alternating request by request on the
                  same server (bench/ab_wsgi.py switches the setting per request)

Targets: the endpoint adds <= 10 ms p50 to the sum of its stages (encoder alone +
vector_search + hydrate); the text legs add <= 10 ms p50 to a text search; query understanding adds <= 3 ms
p50 to a text search. Figures, never
timed assertions. --quick: a few hundred products and a tiny CLIP (a smoke run, ~30 s).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.indexing import make_images, save_random_clip  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

SEARCH_PATH = "/api/v1/search/"
TARGET_OVERHEAD_MS = 10.0
TARGET_TEXT_LEGS_MS = 10.0
TARGET_UNDERSTANDING_MS = 3.0
IMAGE_FILES = 8  # real JPEGs in the media folder that the image rows point at
PHOTOS = 12  # distinct shopper photos, 640x480
IMAGE_ONLY = {"image": 1, "text": 0, "keywords": 0}

# category -> nouns; sizes follow Zipf's law in the order given.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "t-shirts": ("t-shirt", "tee"),
    "dresses": ("dress", "gown"),
    "sneakers": ("sneaker", "trainer"),
    "jeans": ("jeans",),
    "jackets": ("jacket", "parka"),
    "handbags": ("handbag", "tote"),
    "boots": ("boot", "bootie"),
    "shirts": ("shirt",),
    "sweaters": ("sweater", "jumper"),
    "skirts": ("skirt",),
    "coats": ("coat", "overcoat"),
    "backpacks": ("backpack", "rucksack"),
    "sandals": ("sandal", "slide"),
    "hoodies": ("hoodie",),
    "trousers": ("trousers", "chinos"),
    "watches": ("watch", "wristwatch"),
    "sunglasses": ("sunglasses", "shades"),
    "blouses": ("blouse",),
    "shorts": ("shorts",),
    "heels": ("heel", "pump"),
    "loafers": ("loafer", "moccasin"),
    "scarves": ("scarf",),
    "hats": ("hat", "beanie"),
    "caps": ("cap",),
    "belts": ("belt",),
    "wallets": ("wallet", "purse"),
    "gloves": ("gloves",),
    "socks": ("socks",),
    "blazers": ("blazer",),
    "suits": ("suit",),
    "swimwear": ("swimsuit",),
    "necklaces": ("necklace", "pendant"),
    "earrings": ("earrings",),
    "rings": ("ring",),
    "bracelets": ("bracelet", "bangle"),
    "lamps": ("lamp",),
    "chairs": ("chair", "armchair"),
    "rugs": ("rug",),
    "mugs": ("mug", "cup"),
    "kettles": ("kettle",),
}
ADJECTIVES = (
    "classic",
    "slim",
    "oversized",
    "vintage",
    "casual",
    "elegant",
    "sporty",
    "minimal",
    "cropped",
    "relaxed",
    "waterproof",
    "lightweight",
    "quilted",
    "ribbed",
    "chunky",
    "retro",
    "tailored",
    "soft",
    "premium",
    "everyday",
)
COLOURS = (
    "black",
    "white",
    "red",
    "navy",
    "beige",
    "olive",
    "grey",
    "pink",
    "brown",
    "green",
    "yellow",
    "blue",
    "burgundy",
    "cream",
    "orange",
    "purple",
)
MATERIALS = (
    "leather",
    "cotton",
    "wool",
    "linen",
    "denim",
    "suede",
    "silk",
    "canvas",
    "cashmere",
    "nylon",
    "velvet",
    "knit",
)
PHRASES = (
    "Made to last, with reinforced seams.",
    "A favourite for every day.",
    "Easy care: machine washable.",
    "Designed in our studio, made in Portugal.",
    "Pairs well with the rest of the collection.",
    "True to size; see the size guide for fit.",
    "Responsibly sourced materials.",
    "A modern take on a timeless shape.",
    "Light enough to pack for a weekend away.",
    "Finished by hand with care.",
)
_SYLLABLES = ("nor", "vel", "kai", "lum", "ost", "bre", "mar", "tev", "zol", "ara")
_ENDINGS = ("da", "ro", "ven", "lia", "ko", "sen", "tix", "mo", "ra", "lu")
BRANDS = tuple(  # 200
    f"{a.capitalize()}{b}{suffix}"
    for suffix in ("", " Studio")
    for a in _SYLLABLES
    for b in _ENDINGS
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def scratch_dir() -> Path:
    shm = Path("/dev/shm")
    base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="bench-search-", dir=base))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(values, q: float) -> float:
    return (
        float(np.percentile(np.asarray(values, dtype=np.float64), q))
        if len(values)
        else float("nan")
    )


# --- the catalogue ------------------------------------------------------------------------


@dataclass
class Catalogue:
    """What to write: product fields and vectors, image owners and vectors."""

    categories: list[str]
    titles: list[str]
    template_of: np.ndarray  # product -> index into template_texts
    template_texts: list[str]
    template_category: list[str]
    brand: list[str]
    price: np.ndarray
    in_stock: np.ndarray
    active: np.ndarray
    colour: list[str]
    material: list[str]
    adjective: list[str]
    image_owner: np.ndarray  # image -> product index
    image_position: np.ndarray
    image_vectors: np.ndarray
    category_weights: np.ndarray  # share of products per category (for photo filters)
    category_names: list[str] = field(default_factory=list)


def make_catalogue(products: int, images: int, dim: int, templates: int, seed: int) -> Catalogue:
    rng = np.random.default_rng(seed)
    names = list(CATEGORIES)
    zipf = 1.0 / np.arange(1, len(names) + 1)
    zipf /= zipf.sum()
    product_category = rng.choice(len(names), size=products, p=zipf)

    # Distinct titles per category in proportion to its size: products share a title ("template"),
    # and differ in brand, price, description and images.
    counts = np.bincount(product_category, minlength=len(names))
    template_texts: list[str] = []
    template_category: list[str] = []
    category_templates: list[list[int]] = []
    for c, name in enumerate(names):
        wanted = max(2, round(templates * counts[c] / products))
        seen: dict[str, None] = {}
        while len(seen) < wanted:
            noun = CATEGORIES[name][rng.integers(len(CATEGORIES[name]))]
            adjective = ADJECTIVES[rng.integers(len(ADJECTIVES))]
            colour = COLOURS[rng.integers(len(COLOURS))]
            material = MATERIALS[rng.integers(len(MATERIALS))]
            seen[f"{adjective.capitalize()} {colour} {material} {noun}"] = None
        category_templates.append(list(range(len(template_texts), len(template_texts) + wanted)))
        template_texts.extend(seen)
        template_category.extend([name] * wanted)
    template_of = np.array(
        [category_templates[c][rng.integers(len(category_templates[c]))] for c in product_category]
    )
    titles = [template_texts[t] for t in template_of]
    words = [title.split(" ", 3) for title in titles]

    # Image vectors: clustered like bench/vector_index.py, a cluster holding one category.
    clusters = 1000 if products >= 5000 else 50
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    cluster_category = rng.choice(len(names), size=clusters, p=zipf)
    by_category = {c: np.flatnonzero(cluster_category == c) for c in range(len(names))}
    product_cluster = np.array(
        [
            rng.choice(by_category[c]) if len(by_category[c]) else rng.integers(clusters)
            for c in product_category
        ]
    )
    product_centre = centres[product_cluster] + rng.normal(scale=0.5, size=(products, dim)).astype(
        np.float32
    )
    owner = np.concatenate(
        [np.arange(products), rng.integers(products, size=max(images - products, 0))]
    )[:images]
    owner.sort(kind="stable")
    vectors = product_centre[owner] + rng.normal(scale=0.3, size=(images, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    position = np.zeros(images, dtype=np.int64)
    for i in range(1, images):
        position[i] = position[i - 1] + 1 if owner[i] == owner[i - 1] else 0

    return Catalogue(
        categories=[names[c] for c in product_category],
        titles=titles,
        template_of=template_of,
        template_texts=template_texts,
        template_category=template_category,
        brand=[BRANDS[b] for b in rng.integers(len(BRANDS), size=products)],
        price=np.round(rng.lognormal(mean=4.0, sigma=0.8, size=products), 2),
        in_stock=rng.random(products) < 0.8,
        active=rng.random(products) < 0.97,
        adjective=[w[0].lower() for w in words],
        colour=[w[1] for w in words],
        material=[w[2] for w in words],
        image_owner=owner,
        image_position=position,
        image_vectors=vectors,
        category_weights=counts / counts.sum(),
        category_names=names,
    )


def query_pool(seed: int) -> list[tuple[str, str]]:
    """Every distinct shopper query of 3 words with its category, shuffled: (text, category)."""
    pool = []
    for category, nouns in CATEGORIES.items():
        for noun in nouns:
            pool += [(f"{c} {m} {noun}", category) for c in COLOURS for m in MATERIALS]
            pool += [(f"{a} {c} {noun}", category) for a in ADJECTIVES for c in COLOURS]
            pool += [(f"{a} {m} {noun}", category) for a in ADJECTIVES for m in MATERIALS]
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(len(pool))
    return [pool[i] for i in order]


class Queries:
    """Fresh query words, never sent twice (thread-safe)."""

    def __init__(self, seed: int) -> None:
        self._pool = iter(query_pool(seed))
        self._lock = threading.Lock()

    def take(self, count: int) -> list[tuple[str, str]]:
        with self._lock:
            taken = list(itertools.islice(self._pool, count))
        if len(taken) < count:
            raise RuntimeError("ran out of distinct queries; lower --duration or --queries")
        return taken

    def next(self) -> tuple[str, str]:
        return self.take(1)[0]


# --- the build ------------------------------------------------------------------------------


def setup_database(args, root: Path) -> tuple[str, Callable[[], None], str]:
    """DATABASE_URL for the bench, a cleanup, and a label."""
    return scratch_database("bench_search", root, sqlite=args.sqlite)


def write_media(media: Path, count: int, quick: bool) -> list[tuple[str, str]]:
    """A few real JPEGs and thumbnails; every image row points at one of them."""
    folder = media / "products" / "bench"
    folder.mkdir(parents=True)
    names = []
    for number, path in enumerate(make_images(folder, count, 96 if quick else 800, seed=3)):
        image_name = f"products/bench/image-{number}.jpg"
        thumb_name = f"products/bench/thumb-{number}.jpg"
        path.rename(media / image_name)
        with Image.open(media / image_name) as image:
            image.thumbnail((256, 256))
            image.save(media / thumb_name, "JPEG", quality=85)
        names.append((image_name, thumb_name))
    return names


def make_photos(directory: Path, quick: bool) -> list[bytes]:
    """Shopper photos: 640x480 JPEGs (smaller with --quick)."""
    directory.mkdir()
    size = 160 if quick else 640
    photos = []
    for path in make_images(directory, 4 if quick else PHOTOS, size, seed=11):
        with Image.open(path) as image:
            cropped = image.crop((0, size // 8, size, size - size // 8))  # 4:3
            out = directory / f"{path.stem}-4x3.jpg"
            cropped.save(out, "JPEG", quality=88)
        photos.append(out.read_bytes())
    return photos


def make_phone_photo(directory: Path, quick: bool) -> tuple[bytes, str]:
    """A phone camera's photo: a 12-megapixel JPEG (1024x768 with --quick)."""
    width, height = (1024, 768) if quick else (4032, 3024)
    (path,) = make_images(directory, 1, height // 2, seed=21)
    out = directory / "phone.jpg"
    with Image.open(path) as image:
        image.resize((width, height), Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    return out.read_bytes(), f"{width}x{height}"


def build(args, catalogue: Catalogue, media_names, index, clip, text_encoder) -> dict[str, float]:
    """Rows in the database and points in the live collections, as the indexing service writes."""
    from django.db import transaction
    from django.utils import timezone

    from catalog.models import Merchant, Product, ProductImage
    from search.encoding.keywords import keyword_document_vector
    from search.index import generations
    from search.index.documents import (
        IMAGE_VECTOR,
        KEYWORD_VECTOR,
        TEXT_VECTOR,
        image_point_id,
        product_payload,
        product_point_id,
        text_of,
    )
    from search.vector_index.base import PointData

    timings: dict[str, float] = {}
    started = time.perf_counter()
    merchants = Merchant.objects.bulk_create(
        [Merchant(name=f"Merchant {m}", slug=f"merchant-{m}") for m in range(50)]
    )
    n_products = len(catalogue.titles)
    products = []
    for p in range(n_products):
        brand = catalogue.brand[p]
        noun = catalogue.titles[p].split(" ", 3)[3]
        products.append(
            Product(
                merchant=merchants[p % len(merchants)],
                sku=f"{brand[:3].upper()}-{p + 1:06d}",
                title=catalogue.titles[p],
                description=(
                    f"A {catalogue.adjective[p]} {noun} in {catalogue.colour[p]} {catalogue.material[p]} "
                    f"by {brand}. {PHRASES[p % len(PHRASES)]}"
                ),
                brand=brand,
                category=catalogue.categories[p],
                price=Decimal(f"{catalogue.price[p]:.2f}"),
                currency="EUR",
                in_stock=bool(catalogue.in_stock[p]),
                attributes={
                    "colour": catalogue.colour[p],
                    "material": catalogue.material[p],
                    "size": ["S", "M", "L"],
                },
                is_active=bool(catalogue.active[p]),
            )
        )
    with transaction.atomic():
        Product.objects.bulk_create(products, batch_size=2000)
    now = timezone.now()
    images = []
    for i, owner in enumerate(catalogue.image_owner):
        file_name, thumb_name = media_names[i % len(media_names)]
        images.append(
            ProductImage(
                product=products[owner],
                file=file_name,
                thumbnail=thumb_name,
                sha256=f"{i:064x}",
                width=800,
                height=800,
                content_type="image/jpeg",
                position=int(catalogue.image_position[i]),
                status=ProductImage.Status.INDEXED,
                model_revision=clip.model_key,
                indexed_at=now,
            )
        )
    with transaction.atomic():
        ProductImage.objects.bulk_create(images, batch_size=2000)
    timings["database rows"] = time.perf_counter() - started

    # The live collections, created and aliased by the same code the indexing service runs
    # (IndexGeneration rows name the CLIP directory and MiniLM, so the server resolves them).
    images_collection, _ = generations.live_images(index)
    products_collection, _ = generations.live_products(index)

    started = time.perf_counter()
    payloads = [product_payload(product) for product in products]
    batch = 2000
    for start in range(0, len(images), batch):
        points = [
            PointData(
                id=image_point_id(image.pk, clip.model_key),
                vectors={IMAGE_VECTOR: catalogue.image_vectors[i]},
                payload={
                    **payloads[catalogue.image_owner[i]],
                    "image_id": image.pk,
                    "model_revision": clip.model_key,
                    "file": image.file.name,
                    "thumbnail": image.thumbnail.name,
                },
            )
            for i, image in enumerate(images[start : start + batch], start=start)
        ]
        index.upsert(images_collection, points)
    timings["image points upsert"] = time.perf_counter() - started

    started = time.perf_counter()
    texts = [text_of(product) for product in products]
    if args.text_vectors == "minilm":
        text_vectors = text_encoder.encode(texts)
    else:
        # Each distinct title through MiniLM (with its category, as the product text has it),
        # then per product a little noise: the neighbourhoods of real MiniLM vectors.
        distinct = text_encoder.encode(
            [
                f"{t}. {c}"
                for t, c in zip(catalogue.template_texts, catalogue.template_category, strict=True)
            ]
        )
        rng = np.random.default_rng(args.seed + 2)
        text_vectors = distinct[catalogue.template_of] + rng.normal(
            scale=0.02, size=(n_products, distinct.shape[1])
        ).astype(np.float32)
        text_vectors /= np.linalg.norm(text_vectors, axis=1, keepdims=True)
    timings["product text vectors (MiniLM)"] = time.perf_counter() - started

    started = time.perf_counter()
    for start in range(0, n_products, batch):
        points = [
            PointData(
                id=product_point_id(products[p].pk, text_encoder.model_key),
                vectors={
                    TEXT_VECTOR: text_vectors[p],
                    KEYWORD_VECTOR: keyword_document_vector(texts[p]),
                },
                payload={**payloads[p], "text_model": text_encoder.model_key},
            )
            for p in range(start, min(start + batch, n_products))
        ]
        index.upsert(products_collection, points)
    timings["product points upsert (with keyword vectors)"] = time.perf_counter() - started

    started = time.perf_counter()
    index.optimize(images_collection)
    timings["optimize images (HNSW)"] = time.perf_counter() - started
    started = time.perf_counter()
    index.optimize(products_collection)
    timings["optimize products (HNSW + sparse)"] = time.perf_counter() - started
    return timings


# --- in-process measurements ------------------------------------------------------------


class EncodeAlone:
    """The encode stage's work for one query, done in this process, no cache: what search()
    runs for a text query (CLIP text, MiniLM, keyword vector), a photo (CLIP on the decoded
    photo; the decode itself happens in the view, before the stages) or both."""

    def __init__(self, clip, text_encoder, photos: list[bytes]) -> None:
        from catalog.intake import decode_query_image
        from search.encoding.keywords import keyword_query_vector

        self.clip, self.text_encoder = clip, text_encoder
        self.decode, self.keywords = decode_query_image, keyword_query_vector
        self.decoded = [decode_query_image(photo) for photo in photos]
        self.times: dict[str, list[float]] = {}
        self.recording = False
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="bench-encode")

    def _time(self, label: str, work: Callable[[], object]) -> tuple[object, float]:
        started = time.perf_counter()
        value = work()
        elapsed = (time.perf_counter() - started) * 1000
        if self.recording:
            self.times.setdefault(label, []).append(elapsed)
        return value, elapsed

    def text(self, text: str) -> None:
        total = sum(
            self._time(label, work)[1]
            for label, work in (
                ("text: CLIP text (query path)", lambda: self.clip.encode_text_query(text)),
                ("text: MiniLM (query path)", lambda: self.text_encoder.encode_query(text)),
                ("text: keyword vector", lambda: self.keywords(text)),
            )
        )
        if self.recording:
            self.times.setdefault("text: all three, one after another", []).append(total)

        # What search() does: MiniLM and the keyword vector in a second thread while CLIP
        # runs here.
        def overlapped() -> None:
            future = self._pool.submit(
                lambda: (self.text_encoder.encode_query(text), self.keywords(text))
            )
            self.clip.encode_text_query(text)
            future.result()

        self._time("text: all three, MiniLM || CLIP", overlapped)

    def photo(self, photo: bytes, kind: str = "photo") -> None:
        image, _ = self._time(f"{kind}: decode", lambda: self.decode(photo))
        self._time(f"{kind}: CLIP image", lambda: self.clip.encode_images([image]))

    def hybrid(self, number: int, text: str) -> None:
        image = self.decoded[number % len(self.decoded)]

        def work() -> None:
            future = self._pool.submit(
                lambda: (self.text_encoder.encode_query(text), self.keywords(text))
            )
            # As search() does: CLIP's text tower in another thread beside the vision tower.
            words_job = self._pool.submit(self.clip.encode_text_query, text)
            photo_vector = self.clip.encode_images([image])[0]
            words = words_job.result()
            mixed = 0.5 * words + 0.5 * photo_vector
            mixed /= np.linalg.norm(mixed)
            future.result()

        self._time("hybrid: CLIP text || image, MiniLM + kw beside", work)


def engine_alone(
    index, clip, text_encoder, photos, text_queries, depth: int
) -> dict[str, list[float]]:
    """The vector-store calls a search makes, each alone, with real query vectors."""
    from catalog.intake import decode_query_image
    from search.encoding.keywords import keyword_query_vector
    from search.index import generations
    from search.query.facets import price_bands
    from search.query.service import IMAGE_HIT_FIELDS
    from search.vector_index.base import SearchFilter

    texts = [text for text, _ in text_queries]
    clip_vectors = clip.encode_texts(texts)
    minilm_vectors = text_encoder.encode(texts)
    sparse_vectors = [keyword_query_vector(text) for text in texts]
    decoded = [decode_query_image(photo) for photo in photos]
    photo_vectors = clip.encode_images(decoded)
    photo_vectors = [photo_vectors[n % len(photo_vectors)] for n in range(len(texts))]

    images = generations.resolve(generations.images_alias(), index, fresh=True)
    products = generations.resolve(generations.products_alias(), index, fresh=True)

    def query(collection: str, name: str, vectors, limit: int, **options):
        return lambda f, n: index.query(
            collection, vector_name=name, vector=vectors[n], filter=f, limit=limit, **options
        )

    # As search() asks: the image legs read the matched image's fields, the product legs
    # only the product id (reading payloads is most of a deep query's cost).
    image_fields = {"payload_fields": IMAGE_HIT_FIELDS}
    ids_only = {"payload_fields": (), "group_by_product": False}
    calls: list[tuple[str, Callable]] = [
        (
            "image leg, top 20 (photo query)",
            query(images, "image", photo_vectors, 20, **image_fields),
        ),
        (
            f"image leg, fusion depth {depth}",
            query(images, "image", clip_vectors, depth, **image_fields),
        ),
        (
            f"image leg, fusion depth {depth}, whole payload",
            query(images, "image", clip_vectors, depth),
        ),
        (f"text leg, depth {depth}", query(products, "text", minilm_vectors, depth, **ids_only)),
        (
            f"text leg, depth {depth}, grouped, whole payload",
            query(products, "text", minilm_vectors, depth),
        ),
        (
            f"keyword leg, depth {depth}",
            query(products, "keywords", sparse_vectors, depth, **ids_only),
        ),
        (
            f"keyword leg, depth {depth}, grouped, whole payload",
            query(products, "keywords", sparse_vectors, depth),
        ),
        ("count (total)", lambda f, n: index.count(products, f)),
        (
            "facets category + brand",
            lambda f, n: (
                index.facets(products, "category", f),
                index.facets(products, "brand", f),
            ),
        ),
        ("price bands (counts)", lambda f, n: price_bands(index, products, f)),
    ]
    filters = [SearchFilter(categories=(category,)) for _, category in text_queries]
    for _, call in calls:  # warm
        for n in range(min(5, len(filters))):
            call(filters[n], n)
    out: dict[str, list[float]] = {}
    # Interleaved: a neighbour's burst of load hits every call alike.
    for n, search_filter in enumerate(filters):
        for label, call in calls:
            started = time.perf_counter()
            call(search_filter, n)
            out.setdefault(label, []).append((time.perf_counter() - started) * 1000)
    return out


# --- the server and its clients -------------------------------------------------------------


def server_encoder_precision(port: int) -> dict[str, dict]:
    """What the server's encoders run in (/readyz details), after its first searches."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/readyz")
        body = json.loads(connection.getresponse().read() or b"{}")
    except (OSError, ValueError):
        return {}
    finally:
        connection.close()
    return body.get("details", {}).get("encoders", {})


def precision_label(report: dict | None) -> str:
    if not report:
        return "?"
    return report.get("mode", "?")


class Server:
    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        # The project's application, with bench/ab_wsgi.py's per-request understanding switch.
        app = "bench.ab_wsgi:application"
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", app]
        with log_path.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer in {timeout:.0f}s:\n{self.tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            except OSError:
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Sample:
    wall_ms: float
    took_ms: float
    stages: dict[str, float]
    results: int
    legs: list[str]
    finished: float = 0.0


class Client:
    """One keep-alive connection; reconnects once if the server closed it while idle."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Sample:
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            try:
                started = time.perf_counter()
                self.connection.request(
                    "POST",
                    SEARCH_PATH,
                    body=body,
                    headers={"Content-Type": content_type, **(headers or {})},
                )
                response = self.connection.getresponse()
                payload = response.read()
                wall = (time.perf_counter() - started) * 1000
                break
            except (http.client.RemoteDisconnected, http.client.CannotSendRequest, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        if response.status != 200:
            raise RuntimeError(f"search answered {response.status}: {payload[:500]!r}")
        data = json.loads(payload)
        return Sample(
            wall,
            float(data["took_ms"]),
            data["stages"],
            len(data["results"]),
            data["legs"],
            time.perf_counter(),
        )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def json_body(text: str, category: str, weights: dict | None = None) -> tuple[bytes, str]:
    body: dict = {"text": text, "filters": {"category": [category]}, "limit": 20}
    if weights is not None:
        body["weights"] = weights
    return json.dumps(body).encode(), "application/json"


def multipart_body(photo: bytes, category: str, text: str | None = None) -> tuple[bytes, str]:
    boundary = f"bench{uuid.uuid4().hex}"
    parts = [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + b"\r\n",
        f'--{boundary}\r\nContent-Disposition: form-data; name="filters"\r\n\r\n'
        f"{json.dumps({'category': [category]})}\r\n".encode(),
    ]
    if text:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n{text}\r\n'.encode()
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def photo_category(catalogue: Catalogue, number: int) -> str:
    rng = np.random.default_rng(1000 + number)
    return catalogue.category_names[
        int(rng.choice(len(catalogue.category_names), p=catalogue.category_weights))
    ]


def request_maker(
    kind: str, queries: Queries, photos: list[bytes], catalogue: Catalogue
) -> Callable[[int], tuple[bytes, str]]:
    def make(number: int) -> tuple[bytes, str]:
        photo = photos[number % len(photos)]
        if kind == "text":
            return json_body(*queries.next())
        if kind == "photo":
            return multipart_body(photo, photo_category(catalogue, number))
        text, category = queries.next()
        return multipart_body(photo, category, text)

    return make


def run_sequence(client: Client, bodies: list[tuple[bytes, str]]) -> list[Sample]:
    return [client.post(body, content_type) for body, content_type in bodies]


def run_concurrent(
    port: int, clients: int, duration: float, make: Callable[[int], tuple[bytes, str]]
) -> tuple[list[Sample], float]:
    counter = itertools.count()
    samples: list[Sample] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    errors: list[BaseException] = []
    stop_at = [0.0]

    def worker() -> None:
        client = Client(port)
        mine = []
        try:
            barrier.wait()
            while time.perf_counter() < stop_at[0]:
                body, content_type = make(next(counter))
                mine.append(client.post(body, content_type))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            client.close()
            with lock:
                samples.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    stop_at[0] = started + duration
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    elapsed = max(s.finished for s in samples) - started if samples else duration
    return samples, elapsed


# --- report -------------------------------------------------------------------------------


def stage(samples: list[Sample], name: str) -> list[float]:
    return [s.stages.get(name, 0.0) for s in samples]


def row(label: str, values: list[str], widths: list[int]) -> str:
    return f"{label:<34}" + "".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True))


def ms(value: float) -> str:
    return f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=300_000)
    parser.add_argument(
        "--queries", type=int, default=120, help="measured queries per kind (default 120)"
    )
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per kind with concurrent clients"
    )
    parser.add_argument(
        "--templates", type=int, default=3000, help="distinct product titles (default 3000)"
    )
    parser.add_argument("--text-vectors", choices=("templates", "minilm"), default="templates")
    parser.add_argument(
        "--sqlite", action="store_true", help="SQLite even when DATABASE_URL is set"
    )
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads (default 4)")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="TORCH_THREADS for the server and this process (default 1; 0: torch's choice)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small catalogue, tiny CLIP"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.products, args.images = min(args.products, 600), min(args.images, 2000)
        args.queries, args.warmup = min(args.queries, 12), min(args.warmup, 3)
        args.duration, args.templates = min(args.duration, 1.5), min(args.templates, 60)
    # A plain `kill` still cleans up (server, scratch database, temporary directory).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    run_started = time.perf_counter()
    load_before = os.getloadavg()[0]
    root = scratch_dir()
    server: Server | None = None
    drop_database: Callable[[], None] = lambda: None  # noqa: E731
    try:
        # --- environment shared by this process and the server
        database_url, drop_database, database_label = setup_database(args, root)
        log(f"scratch directory {root}; database {database_label}")
        media = root / "media"
        started = time.perf_counter()
        media_names = write_media(media, IMAGE_FILES, args.quick)
        photos = make_photos(root / "photos", args.quick)
        phone, phone_size = make_phone_photo(root / "photos", args.quick)
        model_dir = save_random_clip(root / "clip", quick=args.quick)
        setup_s = time.perf_counter() - started
        env = {
            "DATABASE_URL": database_url,
            "VAR_DIR": str(root / "var"),
            # The text towers' ONNX exports outlive the run (keyed by model revision): a run
            # measures searches, not the first start's export.
            "ONNX_CACHE_DIR": os.environ.get("ONNX_CACHE_DIR", str(REPO_ROOT / "var" / "onnx")),
            "MEDIA_ROOT": str(media),
            "VECTOR_BACKEND": "embedded",
            "VECTOR_PATH": str(root / "vectors"),
            "CLIP_MODEL": str(model_dir),
            "CLIP_MODEL_REVISION": "",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "DJANGO_ENV": "development",
            "DJANGO_DEBUG": "0",
            "CACHE_REDIS": "0",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "METRICS_ENABLED": "true",
            "THROTTLE_SEARCH_TEXT_ANON": "1000000/min",
            "THROTTLE_SEARCH_TEXT_USER": "1000000/min",
            "THROTTLE_SEARCH_PHOTO_ANON": "1000000/min",
            "THROTTLE_SEARCH_PHOTO_USER": "1000000/min",
        }
        env["TORCH_THREADS"] = str(args.torch_threads)
        env["GUNICORN_TORCH_THREADS"] = str(args.torch_threads)  # what the server's workers use
        os.environ.update(env)
        os.environ["LOG_LEVEL"] = "WARNING"

        import django

        django.setup()
        import torch
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, connections
        from transformers.utils import logging as transformers_logging

        from search.encoding.precision import hardware
        from search.encoding.registry import get_clip_encoder, get_text_encoder
        from search.vector_index.embedded import EdgeVectorIndex

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        log("migrating")
        call_command("migrate", verbosity=0, interactive=False)

        clip = get_clip_encoder()
        text_encoder = get_text_encoder()
        started = time.perf_counter()
        clip.load()
        text_encoder.load()
        models_s = time.perf_counter() - started

        log(f"generating {args.products} products, {args.images} images")
        catalogue = make_catalogue(args.products, args.images, clip.dim, args.templates, args.seed)
        # The store the server will open; optimize() is called once, here, after the load.
        index = EdgeVectorIndex(settings.VECTOR_PATH, optimize_after_writes=None)
        log("loading the database and the vector store")
        build_timings = build(args, catalogue, media_names, index, clip, text_encoder)

        queries = Queries(args.seed)
        n, w = args.queries, args.warmup
        depth = max(20, settings.SEARCH_FUSION_DEPTH)
        log("engine alone")
        engine = engine_alone(index, clip, text_encoder, photos, queries.take(min(n, 100)), depth)
        index.close()
        del index
        connections.close_all()
        db_vendor = connection.vendor
        torch_threads = torch.get_num_threads()
        alone = EncodeAlone(clip, text_encoder, photos)

        # --- the server: it owns the store from here on
        port = free_port()
        server_env = {
            **os.environ,
            "LOG_LEVEL": "INFO",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": str(args.threads),
            "GUNICORN_MAX_REQUESTS": "0",  # no recycling in the middle of a measurement
            "GUNICORN_KEEPALIVE": "120",
            "GUNICORN_TIMEOUT": "300",
        }
        server_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log(f"starting gunicorn on 127.0.0.1:{port}")
        started = time.perf_counter()
        server = Server(server_env, port, root / "server.log")
        server.wait_ready()
        client = Client(port)
        # The first searches load CLIP and MiniLM and open the shards.
        first = queries.next()
        client.post(*json_body(*first))
        client.post(*multipart_body(photos[0], first[1], first[0]))
        server_start_s = time.perf_counter() - started
        server_precision = server_encoder_precision(port)

        # One client; each request is followed by the same encode work here, alone, so that
        # a neighbour's load drifting over minutes hits both sides alike.
        def photo_request(number: int, text: str | None = None, category: str | None = None):
            photo = photos[number % len(photos)]
            return multipart_body(photo, category or photo_category(catalogue, number), text)

        seq: dict[str, list[Sample]] = {"text": [], "photo": [], "hybrid": []}
        log(f"endpoint and encoders alone, one client, {n} queries per kind")
        for recording, count in ((False, w), (True, n)):
            alone.recording = recording
            texts = queries.take(count)
            for text, category in texts:
                sample = client.post(*json_body(text, category))
                alone.text(text)
                if recording:
                    seq["text"].append(sample)
            for number in range(count):
                sample = client.post(*photo_request(number + (0 if recording else 10_000)))
                alone.photo(photos[number % len(photos)])
                if recording:
                    seq["photo"].append(sample)
            for number, (text, category) in enumerate(queries.take(count)):
                sample = client.post(*photo_request(number, text, category))
                alone.hybrid(number, text)
                if recording:
                    seq["hybrid"].append(sample)
        repeat = texts[: max(1, n // 2)]
        seq["text, repeated (cache hit)"] = [client.post(*json_body(*q)) for q in repeat]
        # A phone camera's photo: what shoppers upload unless the app shrinks it first.
        phone_kind = f"photo {phone_size} (phone)"
        seq[phone_kind] = []
        for recording, count in ((False, 2), (True, max(3, n // 4))):
            alone.recording = recording
            for number in range(count):
                sample = client.post(*multipart_body(phone, photo_category(catalogue, number)))
                alone.photo(phone, "phone")
                if recording:
                    seq[phone_kind].append(sample)

        log("text legs: image leg only against the fused default")
        for _ in range(w):
            client.post(*json_body(*queries.next(), weights=IMAGE_ONLY))
            client.post(*json_body(*queries.next()))
        image_only, fused = [], []
        for _ in range(n):
            image_only.append(client.post(*json_body(*queries.next(), weights=IMAGE_ONLY)))
            fused.append(client.post(*json_body(*queries.next())))
        client.close()

        log(f"{args.clients} concurrent clients, {args.duration:.0f} s per kind")
        concurrent: dict[str, tuple[list[Sample], float]] = {}
        for kind in ("text", "photo", "hybrid"):
            concurrent[kind] = run_concurrent(
                port, args.clients, args.duration, request_maker(kind, queries, photos, catalogue)
            )
        log("query understanding off and on, alternating request by request")
        understanding = understanding_on_off(Client(port), queries, n, w)
        server.stop()
        server = None
        load_after = os.getloadavg()[0]

        # --- report
        print(
            f"search benchmark: {args.products} products, {args.images} images ({clip_label(args)}); "
            f"database {database_label}; vector store embedded (qdrant-edge), tmpfs"
        )
        print(
            f"server: gunicorn, 1 worker x {args.threads} threads, DJANGO_DEBUG=0, TORCH_THREADS="
            f"{settings.TORCH_THREADS}; clients on the same machine; {os.cpu_count()} CPUs, torch "
            f"threads {torch_threads}, python {platform.python_version()}"
        )
        text_note = (
            "MiniLM of every product's text"
            if args.text_vectors == "minilm"
            else f"MiniLM of {len(catalogue.template_texts)} distinct titles + noise (sigma 0.02)"
        )
        print(
            f"data: image vectors clustered random {catalogue.image_vectors.shape[1]}-d; product text "
            f"vectors {text_note}; keyword vectors real BM25 of each product's text; "
            "queries: 3 fresh words, one category filter"
        )
        print(f"cpu: {hardware().describe()}")
        for tower, report in sorted(server_precision.items()):
            print(
                f"server {tower} precision: {report.get('mode')} (setting "
                f"{report.get('requested')}, calibration min cosine to fp32 "
                f"{report.get('min_cosine')})"
                + (f"; fell back: {report['reason']}" if report.get("reason") else "")
            )
        print(f"load average (1 min) before / after: {load_before:.2f} / {load_after:.2f}")
        build_line = ", ".join(f"{k} {v:.1f} s" for k, v in build_timings.items())
        print(
            f"setup: files and CLIP {setup_s:.1f} s, models load {models_s:.1f} s, {build_line}; "
            f"server start + first searches {server_start_s:.1f} s"
        )
        print()

        widths = [9, 9, 9, 9, 9, 9, 9, 10, 11]
        clip_mode = precision_label(server_precision.get("clip"))
        text_mode = precision_label(server_precision.get("text"))
        print(f"== endpoint, one keep-alive client, N = {n} per kind (ms)")
        print(
            row(
                "query",
                [
                    "wall p50",
                    "wall p95",
                    "took p50",
                    "decode",
                    "encode",
                    "vsearch",
                    "hydrate",
                    "wall-took",
                    "precision",
                ],
                widths,
            )
        )
        for kind, samples in seq.items():
            walls = [s.wall_ms for s in samples]
            print(
                row(
                    kind,
                    [
                        ms(pct(walls, 50)),
                        ms(pct(walls, 95)),
                        ms(pct([s.took_ms for s in samples], 50)),
                        ms(pct(stage(samples, "decode"), 50))
                        if "photo" in kind or kind == "hybrid"
                        else "-",
                        ms(pct(stage(samples, "encode"), 50)),
                        ms(pct(stage(samples, "vector_search"), 50)),
                        ms(pct(stage(samples, "hydrate"), 50)),
                        ms(pct([s.wall_ms - s.took_ms for s in samples], 50)),
                        # CLIP for every kind; MiniLM too where words are searched.
                        clip_mode
                        if kind.startswith(("photo", "similar"))
                        else f"{clip_mode}/{text_mode}",
                    ],
                    widths,
                )
            )
        mean_results = np.mean([s.results for kinds in seq.values() for s in kinds])
        print(
            "(decode/encode/vsearch/hydrate: p50 of the server's stages, decode for photos only; "
            "wall-took: p50 of the per-request difference: HTTP, the multipart upload, Django/DRF; "
            f"{mean_results:.1f} results per answer; precision: CLIP[/MiniLM] as the server "
            "runs them)"
        )
        print()

        print("== encoders alone, this process, the same queries, interleaved with them (ms)")
        print(row("work", ["p50", "p95"], [9, 9]))
        for label, values in alone.times.items():
            print(row(label, [ms(pct(values, 50)), ms(pct(values, 95))], [9, 9]))
        print()

        print(
            f"== engine alone, this process before the server started, category filter, N = {min(n, 100)} (ms)"
        )
        print(row("call", ["p50", "p95"], [9, 9]))
        for label, values in engine.items():
            print(row(label, [ms(pct(values, 50)), ms(pct(values, 95))], [9, 9]))
        print()

        print(
            "== endpoint against its stages: decode and encoders alone + the server's vector_search and hydrate (p50, ms)"
        )
        print(
            "(adds: p50 over requests of wall time - the request's own parts; the columns are p50s)"
        )
        print(
            "(text and hybrid: enc alone is MiniLM beside CLIP plus the product-text and keyword "
            "queries alone, which run beside CLIP in the server's encode stage)"
        )
        widths2 = [9, 9, 11, 9, 9, 9, 10]
        print(
            row(
                "query",
                ["endpoint", "decode", "enc alone", "vsearch", "hydrate", "sum", "adds"],
                widths2,
            )
        )
        overhead: dict[str, float] = {}
        encode_alone = {
            "text": alone.times["text: all three, MiniLM || CLIP"],
            "photo": alone.times["photo: CLIP image"],
            "hybrid": alone.times["hybrid: CLIP text || image, MiniLM + kw beside"],
            phone_kind: alone.times["phone: CLIP image"],
        }
        # A text or hybrid search runs the product-text and keyword queries in a second thread
        # during its encode stage; the vector store holds the GIL while it answers them, so
        # they add to that stage: their engine-alone times count with the encoders.
        product_legs = pct(engine[f"text leg, depth {depth}"], 50) + pct(
            engine[f"keyword leg, depth {depth}"], 50
        )
        # The decode stage of photo queries against the same decode alone.
        decode_alone = {
            "photo": alone.times["photo: decode"],
            "hybrid": alone.times["photo: decode"],
            phone_kind: alone.times["phone: decode"],
        }
        for kind in encode_alone:
            samples = seq[kind]
            endpoint = pct([s.wall_ms for s in samples], 50)
            legs = product_legs if kind in ("text", "hybrid") else 0.0
            decodes = decode_alone.get(kind, [0.0] * len(samples))
            # Each request against its own parts (its encode work was redone here right after
            # it): a difference of p50s would not do, since a stage that is sometimes much
            # longer (totals and facets on a filter set's first search) moves the p50 of the
            # sum more than the sum of the p50s.
            per_request = [
                s.wall_ms - (d + e + legs + s.stages["vector_search"] + s.stages["hydrate"])
                for s, d, e in zip(samples, decodes, encode_alone[kind], strict=True)
            ]
            parts = [
                pct(decodes, 50),
                pct(encode_alone[kind], 50) + legs,
                pct(stage(samples, "vector_search"), 50),
                pct(stage(samples, "hydrate"), 50),
            ]
            overhead[kind] = pct(per_request, 50)
            print(
                row(
                    kind,
                    [ms(endpoint), *(ms(p) for p in parts), ms(sum(parts)), ms(overhead[kind])],
                    widths2,
                )
            )
        print()

        print(f"== {args.clients} concurrent clients, {args.duration:.0f} s per kind")
        print(row("query", ["req/s", "p50 ms", "p95 ms", "requests"], [9, 9, 9, 10]))
        for kind, (samples, elapsed) in concurrent.items():
            walls = [s.wall_ms for s in samples]
            print(
                row(
                    kind,
                    [
                        f"{len(samples) / elapsed:.1f}",
                        ms(pct(walls, 50)),
                        ms(pct(walls, 95)),
                        str(len(samples)),
                    ],
                    [9, 9, 9, 10],
                )
            )
        print()

        print(f"== text legs: image leg only vs the fused default, alternating, N = {n} each (ms)")
        widths3 = [9, 9, 9, 9, 9, 22]
        print(
            row("query", ["wall p50", "wall p95", "took p50", "encode", "vsearch", "legs"], widths3)
        )
        for label, samples in (
            ("image leg only", image_only),
            ("fused (image+text+keywords)", fused),
        ):
            walls = [s.wall_ms for s in samples]
            print(
                row(
                    label,
                    [
                        ms(pct(walls, 50)),
                        ms(pct(walls, 95)),
                        ms(pct([s.took_ms for s in samples], 50)),
                        ms(pct(stage(samples, "encode"), 50)),
                        ms(pct(stage(samples, "vector_search"), 50)),
                        ",".join(samples[0].legs),
                    ],
                    widths3,
                )
            )
        legs_cost = pct([s.wall_ms for s in fused], 50) - pct([s.wall_ms for s in image_only], 50)
        took_cost = pct([s.took_ms for s in fused], 50) - pct([s.took_ms for s in image_only], 50)
        print(f"text legs add: {legs_cost:.1f} ms p50 wall ({took_cost:.1f} ms p50 took_ms)")
        print()

        understanding_cost = print_understanding(understanding, n)
        print()

        print("== targets")

        def target(label: str, value: float, limit: float) -> None:
            verdict = "met" if value <= limit else "NOT met"
            print(f"{label + ' ':.<70}{value:7.1f} ms  {verdict}")

        for kind in encode_alone:
            target(
                f"endpoint adds <= {TARGET_OVERHEAD_MS:.0f} ms p50 to its stages, {kind}",
                overhead[kind],
                TARGET_OVERHEAD_MS,
            )
        target(
            f"text legs add <= {TARGET_TEXT_LEGS_MS:.0f} ms p50 to a text search",
            legs_cost,
            TARGET_TEXT_LEGS_MS,
        )
        target(
            f"query understanding adds <= {TARGET_UNDERSTANDING_MS:.0f} ms p50 to a text search",
            understanding_cost,
            TARGET_UNDERSTANDING_MS,
        )
        rps = ", ".join(f"{k} {len(s) / e:.1f}" for k, (s, e) in concurrent.items())
        print(f"requests/s with {args.clients} clients: {rps}")
        print(f"total run time {time.perf_counter() - run_started:.0f} s ({db_vendor})")
        return 0
    finally:
        if server is not None:
            sys.stderr.write(f"server log tail:\n{server.tail()}\n")
            server.stop()
        try:
            drop_database()
        except Exception as exc:  # noqa: BLE001 - the results matter more than the cleanup  # noqa: BLE001 - cleanup; report and go on
            log(f"could not drop the scratch database: {exc}")
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def understanding_on_off(
    client: Client, queries: Queries, count: int, warmup: int
) -> dict[str, list[Sample]]:
    """Text searches with SEARCH_QUERY_UNDERSTANDING off and on, alternating request by request
    on the one server (bench/ab_wsgi.py switches it per request), which of the two goes first
    alternating too: a neighbour's load drifting over minutes hits both alike. Fresh words
    every time, as elsewhere: the embedding cache would hide the encoders."""
    samples: dict[str, list[Sample]] = {"off": [], "on": []}
    for number in range(warmup + count):
        order = ("off", "on") if number % 2 else ("on", "off")
        for mode in order:
            sample = client.post(
                *json_body(*queries.next()), headers={"X-Bench-Understanding": mode}
            )
            if number >= warmup:
                samples[mode].append(sample)
    client.close()
    return samples


def print_understanding(samples: dict[str, list[Sample]], n: int) -> float:
    print(
        f"== query understanding off vs on: text search, alternating request by request, N = {n} each (ms)"
    )
    widths = [9, 9, 9, 15]
    print(row("mode", ["wall p50", "wall p95", "took p50", "understand p50"], widths))
    for mode, values in samples.items():
        walls = [s.wall_ms for s in values]
        understand = [s.stages.get("understand", 0.0) for s in values]
        print(
            row(
                mode,
                [
                    ms(pct(walls, 50)),
                    ms(pct(walls, 95)),
                    ms(pct([s.took_ms for s in values], 50)),
                    ms(pct(understand, 50)),
                ],
                widths,
            )
        )
    cost = pct([s.wall_ms for s in samples["on"]], 50) - pct(
        [s.wall_ms for s in samples["off"]], 50
    )
    took = pct([s.took_ms for s in samples["on"]], 50) - pct(
        [s.took_ms for s in samples["off"]], 50
    )
    print(f"query understanding adds: {cost:.1f} ms p50 wall ({took:.1f} ms p50 took_ms)")
    return cost


def clip_label(args) -> str:
    return "tiny CLIP, --quick" if args.quick else "random-init CLIP ViT-B/32, 224 px"


if __name__ == "__main__":
    raise SystemExit(main())
