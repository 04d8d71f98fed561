"""The relevance development set: a catalogue, queries and graded judgments, all generated.

Nothing here runs a search: the queries are drawn from the catalogue by rules, and the
judgments follow from the product attributes alone, so the set can judge any ranking.

* ``products.jsonl``: one product a line (sku, title, description, brand, category, price,
  attributes), from ``catalog.sample_data.generate_products`` with a fixed seed and more
  varied descriptions than the demo catalogue has.
* ``queries.tsv``: ``qid<TAB>query<TAB>type``; the type (``exact_title``, ``synonym``,
  ``paraphrase``, ``misspelling``, ``brand_category``, ``sku``, ``attributes``) lets results be
  broken down. Tools that read TREC topics as ``qid<TAB>text`` can ignore the third column.
* ``qrels.tsv``: TREC qrels, ``qid<TAB>0<TAB>sku<TAB>grade``. Each query carries an intent (the
  attributes it asks for) and a product's grade is

  - 3: it has everything the intent asks for (for a SKU query: it is that product);
  - 2: right category, and the right colour or the right material (of those the intent names);
  - 1: right category only;
  - 0: wrong category. Zeros are left out except a few "near misses" (everything right but the
    category, e.g. red leather boots for a red leather jacket query), recorded as judged.

Regenerate with ``manage.py build_relevance_devset``; a test checks the committed files are
what this module writes.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog import services
from catalog.models import Merchant, Product
from catalog.sample_data import CATEGORIES, SampleProduct, draw_product, generate_products
from search.index import reindex
from search.index import sync as indexing

DEVSET_DIR = Path(__file__).resolve().parent / "data"
PRODUCTS_FILE = "products.jsonl"
QUERIES_FILE = "queries.tsv"
QRELS_FILE = "qrels.tsv"
MERCHANT_SLUG = "relevance-devset"
MERCHANT_NAME = "Relevance devset"

SEED = 2024
PRODUCT_COUNT = 300
NEAR_MISSES_PER_QUERY = 3

# How many queries of each type, in the order they are numbered.
QUERY_PLAN: tuple[tuple[str, int], ...] = (
    ("exact_title", 15),
    ("synonym", 20),
    ("paraphrase", 20),
    ("misspelling", 20),
    ("brand_category", 15),
    ("sku", 15),
    ("attributes", 20),
    # Added with query understanding (identifiers, typo tolerance, recognised words); drawn
    # after the others, so the queries above stay as they were.
    ("identifier", 15),
    ("colour_category", 15),
    ("brand_misspelling", 15),
)
# Share of products whose merchant gives a GTIN and a manufacturer part number.
IDENTIFIER_SHARE = 0.7

# Words a shopper uses for a category that the product titles do not.
CATEGORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "jackets": ("coat", "outerwear"),
    "dresses": ("frock", "gown"),
    "sneakers": ("trainers", "running shoes"),
    "boots": ("booties", "ankle boots"),
    "handbags": ("purse", "tote"),
    "backpacks": ("rucksack", "daypack"),
    "t-shirts": ("tee", "top"),
    "jeans": ("denim trousers", "denim pants"),
    "watches": ("wristwatch", "timepiece"),
    "sunglasses": ("shades", "sunnies"),
    "mugs": ("coffee cup", "tea cup"),
    "lamps": ("table light", "reading light"),
    "chairs": ("armchair", "seat"),
    "kettles": ("teakettle", "water boiler"),
}

COLOUR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "red": ("crimson", "scarlet"),
    "blue": ("cobalt", "azure"),
    "black": ("jet black", "ebony"),
    "white": ("ivory", "snow white"),
    "green": ("emerald", "forest green"),
    "yellow": ("mustard", "lemon"),
    "brown": ("chocolate", "chestnut"),
    "pink": ("rose", "blush"),
    "grey": ("charcoal", "slate"),
    "navy": ("dark blue", "midnight blue"),
}

PARAPHRASES = (
    "{colour} {noun} made of {material}",
    "{noun} in {colour} {material}",
    "{a_material} {noun} that {is_} {colour}",
    "{colour} coloured {noun} of {material}",
)

# Per-category sentences that make descriptions read like a shop's and not like a template.
DETAILS: dict[str, tuple[str, ...]] = {
    "jackets": ("Two front pockets and a full-length zip.", "Lined, with a stand-up collar."),
    "dresses": ("Falls just below the knee.", "Fitted waist and a softly flared skirt."),
    "sneakers": ("Cushioned insole and a grippy rubber sole.", "Lace-up, with a padded collar."),
    "boots": ("Pull-on, with a stacked heel.", "Lace-up, with a sturdy lug sole."),
    "handbags": (
        "An inner zip pocket and a magnetic clasp.",
        "Comes with a detachable shoulder strap.",
    ),
    "backpacks": ("Padded laptop sleeve for up to 15 inches.", "Two side pockets for bottles."),
    "t-shirts": ("Crew neck and short sleeves.", "Relaxed fit; pre-washed to keep its shape."),
    "jeans": ("Five pockets and a button fly.", "Straight leg with a mid rise."),
    "watches": ("Water resistant to 50 metres.", "Sapphire glass and a quartz movement."),
    "sunglasses": ("UV400 lenses with a scratch-resistant coating.", "Comes in a hard case."),
    "mugs": ("Holds 350 ml; dishwasher safe.", "A generous handle and a thick rim."),
    "lamps": (
        "Takes an E27 bulb; cable with an inline switch.",
        "A warm, diffused light for desks.",
    ),
    "chairs": ("Seat height 46 cm; easy to assemble.", "Sturdy frame with a comfortable back."),
    "kettles": ("Holds 1.7 litres; boils in minutes.", "A whistle tells you when it boils."),
}

DESCRIPTIONS = (
    "A {style} {colour} {noun} made of {material} by {brand}. {detail}",
    "{brand}'s {style} {noun} in {colour} {material}. {a_synonym} for every day. {detail}",
    "Made from {material} in a {colour} finish, this {style} {noun} is a {brand} favourite. {detail}",
    "{detail} {this} {colour} {synonym} by {brand} {is_} {material} through and through.",
)


@dataclass(frozen=True)
class DevProduct:
    sku: str
    title: str
    description: str
    brand: str
    category: str
    price: str
    attributes: dict = field(default_factory=dict)
    gtin: str = ""
    mpn: str = ""

    @property
    def colour(self) -> str:
        return self.attributes["colour"]

    @property
    def material(self) -> str:
        return self.attributes["material"]

    @property
    def style(self) -> str:
        return self.attributes["style"]

    def as_json(self) -> str:
        return json.dumps(
            {
                "sku": self.sku,
                "title": self.title,
                "description": self.description,
                "brand": self.brand,
                "category": self.category,
                "price": self.price,
                "attributes": self.attributes,
                "gtin": self.gtin,
                "mpn": self.mpn,
            },
            sort_keys=False,
        )


@dataclass(frozen=True)
class DevQuery:
    qid: str
    text: str
    type: str
    # The attributes asked for: category, colour, material, brand, style, or sku.
    intent: Mapping[str, str]


@dataclass
class DevSet:
    products: list[DevProduct]
    queries: list[DevQuery]
    qrels: dict[str, dict[str, int]]  # qid -> sku -> grade


def _plural(noun: str) -> bool:
    # Good enough for the nouns above: "trainers", "shades", "denim pants", but not "dress".
    return noun.endswith("s") and not noun.endswith("ss")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


# --- Products ------------------------------------------------------------------------------------


def gtin13(body: str) -> str:
    """Twelve digits and their GS1 check digit."""
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _identifiers(rng: random.Random, brand: str) -> tuple[str, str]:
    if rng.random() >= IDENTIFIER_SHARE:
        return "", ""
    gtin = gtin13("40" + "".join(rng.choice("0123456789") for _ in range(10)))
    mpn = f"{brand[:2].upper()}{rng.randint(100, 9999)}-{rng.choice('ABCDEFGHJK')}{rng.randint(1, 99)}"
    return gtin, mpn


def build_products(count: int = PRODUCT_COUNT, *, seed: int = SEED) -> list[DevProduct]:
    rng = random.Random(f"descriptions-{seed}")
    # Its own generator, so that adding identifiers left the descriptions as they were.
    identifier_rng = random.Random(f"identifiers-{seed}")
    products = []
    for sample in generate_products(count, seed=seed):
        noun = CATEGORIES[sample.category][0]
        words = {
            "style": sample.attributes["style"],
            "colour": sample.colour,
            "noun": noun,
            "material": sample.material,
            "brand": sample.brand,
            "detail": rng.choice(DETAILS[sample.category]),
        }
        synonym = rng.choice(CATEGORY_SYNONYMS[sample.category])
        plural = _plural(synonym)
        words.update(
            synonym=synonym,
            a_synonym=synonym.capitalize()
            if plural
            else f"{_article(synonym).capitalize()} {synonym}",
            this="These" if plural else "This",
            is_="are" if plural else "is",
        )
        description = rng.choice(DESCRIPTIONS).format(**words)
        products.append(
            DevProduct(
                sku=sample.sku,
                title=sample.title,
                description=description[0].upper() + description[1:],
                brand=sample.brand,
                category=sample.category,
                price=sample.price,
                attributes=dict(sample.attributes),
                **dict(
                    zip(("gtin", "mpn"), _identifiers(identifier_rng, sample.brand), strict=True)
                ),
            )
        )
    return products


# --- Judgments -----------------------------------------------------------------------------------


def _value(product: DevProduct, key: str) -> str:
    if key in ("category", "brand", "sku"):
        return getattr(product, key)
    return product.attributes.get(key, "")


def grade(product: DevProduct, intent: Mapping[str, str]) -> int:
    """The grade of a product for a query intent (see the module docstring)."""
    if "sku" in intent:
        return 3 if product.sku.lower() == intent["sku"].lower() else 0
    if product.category != intent["category"]:
        return 0
    if all(_value(product, key) == value for key, value in intent.items()):
        return 3
    if any(_value(product, key) == intent[key] for key in ("colour", "material") if key in intent):
        return 2
    return 1


def _near_miss(product: DevProduct, intent: Mapping[str, str]) -> bool:
    """Everything the intent asks for but the category (judged, and not relevant)."""
    others = {key: value for key, value in intent.items() if key not in ("category", "style")}
    return (
        "sku" not in intent
        and bool(others)
        and product.category != intent["category"]
        and all(_value(product, key) == value for key, value in others.items())
    )


def judge(products: Iterable[DevProduct], intent: Mapping[str, str]) -> dict[str, int]:
    grades: dict[str, int] = {}
    misses = 0
    for product in products:
        value = grade(product, intent)
        if value > 0:
            grades[product.sku] = value
        elif misses < NEAR_MISSES_PER_QUERY and _near_miss(product, intent):
            grades[product.sku] = 0
            misses += 1
    return grades


# --- Queries -------------------------------------------------------------------------------------


def misspell(word: str, rng: random.Random) -> str:
    """One typing slip in a word of 4+ letters: a dropped, doubled, swapped or wrong vowel letter."""
    if len(word) < 4 or not word.isalpha():
        return word
    position = rng.randrange(1, len(word) - 1)  # keep the first and last letters, as people do
    kind = rng.choice(("drop", "double", "swap", "vowel"))
    if kind == "drop":
        slip = word[:position] + word[position + 1 :]
    elif kind == "double":
        slip = word[:position] + word[position] + word[position:]
    elif kind == "swap":
        position = min(position, len(word) - 3)  # the letter and the next, neither at an end
        slip = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    else:
        vowels = [i for i, letter in enumerate(word) if letter in "aeiou" and 0 < i < len(word) - 1]
        if not vowels:
            slip = word[:position] + word[position + 1 :]
        else:
            i = rng.choice(vowels)
            slip = word[:i] + rng.choice([v for v in "aeiou" if v != word[i]]) + word[i + 1 :]
    return slip if slip != word else word[:position] + word[position + 1 :]


def _vocabulary(products: Iterable[DevProduct]) -> frozenset[str]:
    words: set[str] = set()
    for product in products:
        text = " ".join((product.title, product.description, product.brand, product.category))
        words.update(re.findall(r"[a-z]+", text.lower()))
    return frozenset(words)


def _triple(product: DevProduct) -> dict[str, str]:
    return {"category": product.category, "colour": product.colour, "material": product.material}


def _noun(category: str) -> str:
    return CATEGORIES[category][0]


def _exact_title(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    intent = _triple(product)
    if product.title.lower().startswith(product.style):
        intent["style"] = product.style
    return product.title, intent


def _synonym(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    synonym = rng.choice(CATEGORY_SYNONYMS[product.category])
    if product.category == "jeans" or rng.random() < 0.5:
        return f"{product.colour} {synonym}", {
            "category": product.category,
            "colour": product.colour,
        }
    return f"{product.material} {synonym}", {
        "category": product.category,
        "material": product.material,
    }


def _paraphrase(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    noun = rng.choice(CATEGORY_SYNONYMS[product.category])
    colour = rng.choice(COLOUR_SYNONYMS[product.colour])
    if product.material in noun:  # "denim trousers": the material is said already
        return f"{colour} {noun}", _triple(product)
    plural = _plural(noun)
    text = rng.choice(PARAPHRASES).format(
        colour=colour,
        noun=noun,
        material=product.material,
        a_material=product.material
        if plural
        else f"{_article(product.material)} {product.material}",
        is_="are" if plural else "is",
    )
    return text, _triple(product)


def _misspelling(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    words = [product.colour, product.material, _noun(product.category)]
    candidates = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    for i in rng.sample(candidates, k=min(len(candidates), rng.choice((1, 2)))):
        # A slip that makes another catalogue word ("black" -> "back"?) is drawn again.
        for _ in range(10):
            slip = misspell(words[i], rng)
            if slip not in known:
                break
        words[i] = slip
    return " ".join(words), _triple(product)


def _brand_category(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    return f"{product.brand} {product.category}", {
        "category": product.category,
        "brand": product.brand,
    }


def _sku(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    form = rng.choice(("as is", "as is", "as is", "lower", "joined"))
    text = {
        "as is": product.sku,
        "lower": product.sku.lower(),
        "joined": product.sku.replace("-", ""),
    }[form]
    return text, {"sku": product.sku}


def _attributes(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    colour, material, category = product.colour, product.material, product.category
    text = rng.choice(
        (
            f"{colour} {material} {category}",
            f"{material} {category} {colour}",
            f"{category} {colour} {material}",
        )
    )
    return text, _triple(product)


def _identifier(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    """The product's SKU, GTIN or MPN as people type them: spaced, mixed case, run together."""
    forms = [
        product.sku.replace("-", " "),
        product.sku.title(),
        product.sku.lower().replace("-", ""),
    ]
    if product.gtin:
        forms += [product.gtin, f"{product.gtin[:1]} {product.gtin[1:7]} {product.gtin[7:]}"]
    if product.mpn:
        forms += [product.mpn.lower(), product.mpn.replace("-", "")]
    return rng.choice(forms), {"sku": product.sku}


def _colour_category(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    """A category and a shade of its colour: "lamp in jet black", "mustard boots"."""
    colour = rng.choice(COLOUR_SYNONYMS[product.colour])
    noun = rng.choice((_noun(product.category), product.category))
    text = rng.choice((f"{noun} in {colour}", f"{colour} {noun}"))
    return text, {"category": product.category, "colour": product.colour}


def _brand_misspelling(
    product: DevProduct, rng: random.Random, known: frozenset[str]
) -> tuple[str, dict[str, str]]:
    """A brand and a category with a slip in the brand, and sometimes in the category too."""
    words = [product.brand.lower(), product.category]
    for i in (0, 1) if rng.random() < 0.5 else (0,):
        for _ in range(10):
            slip = misspell(words[i], rng)
            if slip not in known:
                break
        words[i] = slip
    return f"{words[0].capitalize()} {words[1]}", {
        "category": product.category,
        "brand": product.brand,
    }


_RULES = {
    "exact_title": _exact_title,
    "synonym": _synonym,
    "paraphrase": _paraphrase,
    "misspelling": _misspelling,
    "brand_category": _brand_category,
    "sku": _sku,
    "attributes": _attributes,
    "identifier": _identifier,
    "colour_category": _colour_category,
    "brand_misspelling": _brand_misspelling,
}


def build_queries(products: list[DevProduct], *, seed: int = SEED) -> list[DevQuery]:
    """Queries drawn from the catalogue by the rules above; no two with the same text."""
    rng = random.Random(f"queries-{seed}")
    queries: list[DevQuery] = []
    seen: set[str] = set()
    for kind, wanted in QUERY_PLAN:
        rule = _RULES[kind]
        # Round robin over the categories (in a drawn order), a drawn product from each in
        # turn: every category is asked about by every type that has enough queries.
        known = _vocabulary(products)
        by_category: dict[str, list[DevProduct]] = {}
        for product in products:
            by_category.setdefault(product.category, []).append(product)
        for members in by_category.values():
            rng.shuffle(members)
        order = sorted(by_category)
        rng.shuffle(order)
        made = 0
        while made < wanted and any(by_category.values()):
            for category in order:
                if made == wanted or not by_category[category]:
                    continue
                text, intent = rule(by_category[category].pop(), rng, known)
                if text.lower() in seen:
                    continue
                seen.add(text.lower())
                made += 1
                queries.append(
                    DevQuery(qid=f"Q{len(queries) + 1:03d}", text=text, type=kind, intent=intent)
                )
    return queries


def build_devset(count: int = PRODUCT_COUNT, *, seed: int = SEED) -> DevSet:
    products = build_products(count, seed=seed)
    queries = build_queries(products, seed=seed)
    return DevSet(
        products=products,
        queries=queries,
        qrels={q.qid: judge(products, q.intent) for q in queries},
    )


# --- Files ---------------------------------------------------------------------------------------


def write_devset(directory: Path, devset: DevSet | None = None) -> list[Path]:
    devset = devset or build_devset()
    directory.mkdir(parents=True, exist_ok=True)
    products = directory / PRODUCTS_FILE
    products.write_text(
        "".join(product.as_json() + "\n" for product in devset.products), encoding="utf-8"
    )
    queries = directory / QUERIES_FILE
    queries.write_text(
        "".join(f"{q.qid}\t{q.text}\t{q.type}\n" for q in devset.queries), encoding="utf-8"
    )
    qrels = directory / QRELS_FILE
    lines = []
    for query in devset.queries:
        judged = devset.qrels[query.qid]
        for sku in sorted(judged, key=lambda sku: (-judged[sku], sku)):
            lines.append(f"{query.qid}\t0\t{sku}\t{judged[sku]}\n")
    qrels.write_text("".join(lines), encoding="utf-8")
    return [products, queries, qrels]


def read_products(path: Path) -> list[DevProduct]:
    products = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                products.append(
                    DevProduct(
                        sku=row["sku"],
                        title=row["title"],
                        description=row.get("description", ""),
                        brand=row.get("brand", ""),
                        category=row.get("category", ""),
                        price=str(row["price"]),
                        attributes=dict(row.get("attributes") or {}),
                        gtin=row.get("gtin", ""),
                        mpn=row.get("mpn", ""),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a product line ({exc})") from None
    return products


# --- Loading into the catalogue ------------------------------------------------------------------


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    images_added: int = 0
    products_indexed: int = 0
    images_indexed: int = 0
    notes: list[str] = field(default_factory=list)


def _devset_merchant() -> Merchant:
    merchant = Merchant.objects.filter(slug=MERCHANT_SLUG).first()
    if merchant is not None:
        return merchant
    user_model = get_user_model()
    owner = user_model.objects.filter(username=MERCHANT_SLUG).first()
    if owner is None:
        # An owner without a password: it holds the data, nobody logs in as it.
        owner = services.user_create(username=MERCHANT_SLUG, password=None)
    return services.merchant_create(name=MERCHANT_NAME, slug=MERCHANT_SLUG, owner=owner)


def _sample_of(product: DevProduct) -> SampleProduct:
    return SampleProduct(
        sku=product.sku,
        title=product.title,
        description=product.description,
        brand=product.brand,
        category=product.category,
        colour=product.colour,
        material=product.material,
        price=product.price,
        in_stock=True,
        attributes=product.attributes,
    )


def load_devset(products: list[DevProduct], *, images: bool, image_size: int = 256) -> LoadReport:
    """Bring the devset merchant's catalogue in line with ``products`` (create, update, delete
    through the catalogue services; idempotent), optionally with a drawn picture each, then
    index its products (and images) synchronously."""
    report = LoadReport()
    skus = [product.sku for product in products]
    if len(set(skus)) != len(skus):
        raise ValueError("the devset has a SKU twice")
    deleted: list[int] = []
    with transaction.atomic():
        merchant = _devset_merchant()
        existing = {
            p.sku: p for p in Product.objects.filter(merchant=merchant).prefetch_related("images")
        }
        for product in products:
            fields: dict[str, Any] = {
                "gtin": product.gtin,
                "mpn": product.mpn,
                "title": product.title,
                "description": product.description,
                "brand": product.brand,
                "category": product.category,
                "price": Decimal(product.price),
                "in_stock": True,
                "attributes": product.attributes,
                "is_active": True,
            }
            row = existing.pop(product.sku, None)
            if row is None:
                row = services.product_create(merchant=merchant, sku=product.sku, **fields)
                report.created += 1
                has_image = False
            else:
                before = row.updated_at
                row = services.product_update(product=row, data=fields)
                report.updated += row.updated_at != before
                report.unchanged += row.updated_at == before
                has_image = bool(row.images.all())
            if images and not has_image:
                services.product_image_create(
                    product=row, data=draw_product(_sample_of(product), size=image_size)
                )
                report.images_added += 1
        for row in existing.values():  # in the catalogue, no longer in the devset
            deleted.append(row.pk)
            services.product_delete(product=row)
        report.deleted = len(deleted)
        # Indexed here and now, in bulk, rather than left to the workers: the evaluation that
        # follows needs every point. Inside the transaction, so that the one-product tasks the
        # services enqueue for after the commit (run inline in development) find the embeddings
        # stored and encode nothing again. Were the commit to fail, the points written for rows
        # that never were are skipped by search (no row to show) and removed by `reconcile`.
        report.products_indexed = reindex.reindex_products(merchant_slug=MERCHANT_SLUG)
        if images:
            result = reindex.reindex_images(merchant_slug=MERCHANT_SLUG)
            report.images_indexed = result.embedded + result.reused
    for product_id in deleted:
        indexing.delete_product_points(product_id=product_id)
    return report
