"""What a visual evaluation runs on: the shop's labelled photos and queries, or held-out splits
drawn from the catalogue itself.

Labelled photos: a folder with one sub-folder per SKU (``photos/SKU-1/front.jpg``), or a CSV of
``path,sku`` (paths relative to the CSV). Text queries: a CSV of ``query,sku,grade``. The
gallery is every image of the catalogue's active products (of ``--merchant`` when given).

Held-out splits (no labels needed): a fixed share of the products, chosen by a hash of merchant
and SKU (so every run, and ``finetune_clip``, holds out the same ones), is kept for evaluation.

* image -> product: each held-out product with two or more images gives its last image as
  the query; its other images stay in the gallery as the targets (the query image does not).
* text -> image: each held-out product's title is a query; grade 3 for that product, 2 for
  another of the same category and brand, 1 for the same category.

What these splits say: whether a model recognises another photo of the same product among the
shop's own pictures (the photos a shopper uploads are not catalogue shots: lighting, crops and
backgrounds differ, so the absolute figure flatters), and whether a title finds its product's
image. What they cannot say: titles are not how shoppers type (shorter, vaguer, misspelt), the
grades follow the catalogue's own category and brand fields rather than a person's judgment,
and a model fine-tuned on these titles must be judged only on the held-out share. A labelled
set of real shopper photos and queries is the better measure; these splits are the baseline
that exists for every shop and the one the switch gate uses.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from pathlib import Path

from catalog import selectors as catalog_selectors
from search.relevance.visual import (
    IMAGE_TASK,
    TEXT_TASK,
    GalleryImage,
    Loader,
    Task,
    VisualInputError,
    VisualQuery,
)

HELD_OUT_SHARE = 0.2
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic"}
GRADE_SAME = 3
GRADE_CATEGORY_AND_BRAND = 2
GRADE_CATEGORY = 1


def is_held_out(merchant: str, sku: str, share: float = HELD_OUT_SHARE) -> bool:
    """The same answer on every run and machine for a product, independent of database ids."""
    digest = hashlib.sha256(f"{merchant}\0{sku}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _read_file(name: str):
    return catalog_selectors.image_file_reader(name=name)


class Catalogue:
    """The catalogue's images, grouped by product, with the fields the grades use."""

    def __init__(self, *, many_merchants: bool = False) -> None:
        self.many_merchants = many_merchants
        self.images: dict[str, list[GalleryImage]] = defaultdict(list)
        self.titles: dict[str, str] = {}
        self.categories: dict[str, str] = {}
        self.brands: dict[str, str] = {}
        self.held_out_key: dict[str, tuple[str, str]] = {}
        self.by_sku: dict[str, list[str]] = defaultdict(list)

    @classmethod
    def from_database(cls, merchant_slug: str = "") -> Catalogue:
        images = catalog_selectors.product_images_for_evaluation(merchant_slug=merchant_slug)
        catalogue = cls(many_merchants=len({image.product.merchant_id for image in images}) > 1)
        for image in images:
            product = image.product
            catalogue.add(
                merchant=product.merchant.slug,
                sku=product.sku,
                title=product.title,
                category=product.category,
                brand=product.brand,
                loader=_read_file(str(image.file.name)),
                image_id=image.pk,
                sha256=image.sha256,
            )
        return catalogue

    def add(
        self,
        *,
        merchant: str,
        sku: str,
        title: str,
        category: str,
        brand: str,
        loader: Loader,
        image_id: int | None = None,
        sha256: str = "",
    ) -> str:
        """One image of a product (the product's fields are taken from its first image)."""
        doc = self.doc(merchant, sku)
        if doc not in self.titles:
            self.titles[doc] = title
            self.categories[doc] = category
            self.brands[doc] = brand
            self.held_out_key[doc] = (merchant, sku)
            self.by_sku[sku].append(doc)
        self.images[doc].append(
            GalleryImage(doc=doc, loader=loader, image_id=image_id, sha256=sha256)
        )
        return doc

    def doc(self, merchant: str, sku: str) -> str:
        return f"{merchant}/{sku}" if self.many_merchants else sku

    def gallery(self, leave_out: set[int] | None = None) -> list[GalleryImage]:
        leave_out = leave_out or set()
        return [
            image
            for images in self.images.values()
            for image in images
            if image.image_id not in leave_out
        ]

    def resolve_sku(self, sku: str, where: str) -> str | None:
        docs = self.by_sku.get(sku, [])
        if len(docs) > 1:
            raise VisualInputError(
                f"{where}: SKU {sku!r} belongs to several merchants: pass --merchant"
            )
        return docs[0] if docs else None

    def held_out(self, share: float) -> list[str]:
        return [doc for doc, key in self.held_out_key.items() if is_held_out(*key, share)]

    def training(self, share: float) -> list[str]:
        """The products a fine-tuning run may learn from: all but the held-out ones."""
        return [doc for doc, key in self.held_out_key.items() if not is_held_out(*key, share)]

    def title_judgments(self, doc: str) -> dict[str, int]:
        category, brand = self.categories[doc], self.brands[doc]
        judgments: dict[str, int] = {}
        if category:
            for other, other_category in self.categories.items():
                if other_category == category:
                    judgments[other] = (
                        GRADE_CATEGORY_AND_BRAND
                        if brand and self.brands[other] == brand
                        else GRADE_CATEGORY
                    )
        judgments[doc] = GRADE_SAME
        return judgments


def held_out_tasks(catalogue: Catalogue, share: float = HELD_OUT_SHARE) -> list[Task]:
    held = catalogue.held_out(share)
    photo_queries = []
    query_images: set[int] = set()
    for doc in held:
        images = catalogue.images[doc]
        if len(images) < 2:
            continue
        query = images[-1]
        if query.image_id is not None:
            query_images.add(query.image_id)
        photo_queries.append(
            VisualQuery(
                qid=f"photo:{doc}",
                judgments={doc: 1},
                category=catalogue.categories[doc],
                image=query,
            )
        )
    tasks = []
    if photo_queries:
        tasks.append(
            Task(
                name=IMAGE_TASK,
                queries=photo_queries,
                gallery=catalogue.gallery(leave_out=query_images),
                notes=[
                    f"held-out split: the last image of {len(photo_queries)} held-out product(s) "
                    "with two or more images, against every other catalogue image"
                ],
            )
        )
    text_queries = [
        VisualQuery(
            qid=f"title:{doc}",
            text=catalogue.titles[doc],
            judgments=catalogue.title_judgments(doc),
            category=catalogue.categories[doc],
        )
        for doc in held
        if catalogue.titles[doc].strip()
    ]
    if text_queries:
        tasks.append(
            Task(
                name=TEXT_TASK,
                queries=text_queries,
                gallery=catalogue.gallery(),
                notes=[
                    f"held-out split: the titles of {len(text_queries)} held-out product(s); "
                    "grade 3 that product, 2 same category and brand, 1 same category"
                ],
            )
        )
    return tasks


# --- The shop's own labels -----------------------------------------------------------------------


def _file_loader(path: Path):
    def read() -> bytes:
        return path.read_bytes()

    return read


def _photo_rows(source: Path) -> list[tuple[Path, str, str]]:
    """(photo, sku, where) from a folder of SKU sub-folders or a path,sku CSV."""
    if source.is_dir():
        rows = []
        for folder in sorted(p for p in source.iterdir() if p.is_dir()):
            for photo in sorted(folder.rglob("*")):
                if photo.is_file() and photo.suffix.lower() in PHOTO_SUFFIXES:
                    rows.append((photo, folder.name, str(photo)))
        return rows
    rows = []
    with source.open(newline="", encoding="utf-8") as fh:
        for number, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0].startswith("#") or (number == 1 and _is_header(row, "path")):
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                raise VisualInputError(f"{source}:{number}: expected 'photo path,sku'")
            path = Path(row[0].strip())
            rows.append(
                (
                    path if path.is_absolute() else source.parent / path,
                    row[1].strip(),
                    f"{source}:{number}",
                )
            )
    return rows


def _is_header(row: list[str], first: str) -> bool:
    return row[0].strip().lower() == first


def labelled_photo_task(source: Path, catalogue: Catalogue) -> Task:
    if not source.exists():
        raise VisualInputError(f"{source} does not exist")
    queries = []
    unknown: set[str] = set()
    for number, (photo, sku, where) in enumerate(_photo_rows(source), start=1):
        if not photo.is_file():
            raise VisualInputError(f"{where}: no photo at {photo}")
        doc = catalogue.resolve_sku(sku, where)
        if doc is None:
            unknown.add(sku)
            continue
        queries.append(
            VisualQuery(
                qid=f"{number}:{photo.name}",
                judgments={doc: 1},
                category=catalogue.categories[doc],
                image=GalleryImage(doc=doc, loader=_file_loader(photo)),
            )
        )
    notes = []
    if unknown:
        shown = ", ".join(sorted(unknown)[:5])
        notes.append(f"photos of {len(unknown)} SKU(s) not in the catalogue left out: {shown}")
    if not queries:
        raise VisualInputError(
            f"{source}: no photo names a SKU of the catalogue (sub-folder names or the CSV's "
            "second column must be SKUs of products with images)"
        )
    return Task(name=IMAGE_TASK, queries=queries, gallery=catalogue.gallery(), notes=notes)


def text_query_task(source: Path, catalogue: Catalogue) -> Task:
    """A CSV of ``query,sku,grade`` (grade 1..3; a query may name several SKUs)."""
    if not source.is_file():
        raise VisualInputError(f"{source} does not exist")
    judgments: dict[str, dict[str, int]] = {}
    unknown: set[str] = set()
    with source.open(newline="", encoding="utf-8") as fh:
        for number, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0].startswith("#") or (number == 1 and _is_header(row, "query")):
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                raise VisualInputError(f"{source}:{number}: expected 'query,sku[,grade]'")
            grade_text = row[2].strip() if len(row) > 2 and row[2].strip() else "1"
            try:
                grade = int(grade_text)
            except ValueError:
                raise VisualInputError(
                    f"{source}:{number}: the grade {grade_text!r} is not an integer"
                ) from None
            doc = catalogue.resolve_sku(row[1].strip(), f"{source}:{number}")
            if doc is None:
                unknown.add(row[1].strip())
                continue
            if grade > 0:
                judgments.setdefault(row[0].strip(), {})[doc] = grade
    if not judgments:
        raise VisualInputError(f"{source}: no query names a SKU of the catalogue with a grade > 0")
    queries = []
    for number, (text, graded) in enumerate(judgments.items(), start=1):
        best = max(graded, key=lambda d: graded[d])
        queries.append(
            VisualQuery(
                qid=f"q{number}", text=text, judgments=graded, category=catalogue.categories[best]
            )
        )
    notes = []
    if unknown:
        notes.append(
            f"judgments of {len(unknown)} SKU(s) not in the catalogue left out: "
            + ", ".join(sorted(unknown)[:5])
        )
    return Task(name=TEXT_TASK, queries=queries, gallery=catalogue.gallery(), notes=notes)
