"""A generated sample catalogue: products across categories, colours, materials and brands,
each with a drawn picture in its colour. Used by `make demo`, the relevance development set
and tests. Deterministic for a given seed; nothing is downloaded or shipped.
"""

import io
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFilter

if TYPE_CHECKING:
    from catalog.models import Merchant, Product

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 30, 40),
    "blue": (40, 90, 200),
    "black": (25, 25, 28),
    "white": (240, 240, 236),
    "green": (40, 150, 70),
    "yellow": (235, 200, 40),
    "brown": (120, 75, 40),
    "pink": (235, 130, 170),
    "grey": (130, 130, 135),
    "navy": (25, 35, 90),
}
# The demo's colours and three more, so that a synthetic set covers a dozen shopper-facing
# names (the colour enrichment bench and tests draw from these).
SWATCH_COLOURS: dict[str, tuple[int, int, int]] = {
    **COLOURS,
    "orange": (240, 130, 30),
    "purple": (120, 50, 150),
    "beige": (215, 195, 155),
}
BACKDROPS = ("plain", "textured")

# category -> (singular noun, materials that make sense, price range, synonyms used in descriptions)
CATEGORIES: dict[str, tuple[str, tuple[str, ...], tuple[int, int], tuple[str, ...]]] = {
    "jackets": (
        "jacket",
        ("leather", "denim", "wool", "suede", "cotton"),
        (60, 400),
        ("coat", "outerwear"),
    ),
    "dresses": ("dress", ("cotton", "linen", "silk", "wool"), (30, 250), ("gown", "frock")),
    "sneakers": (
        "sneaker",
        ("canvas", "leather", "suede", "mesh"),
        (40, 180),
        ("trainers", "running shoes"),
    ),
    "boots": ("boot", ("leather", "suede", "rubber"), (70, 300), ("ankle boots", "footwear")),
    "handbags": ("handbag", ("leather", "canvas", "suede"), (50, 600), ("purse", "tote")),
    "backpacks": ("backpack", ("canvas", "nylon", "leather"), (35, 200), ("rucksack", "daypack")),
    "t-shirts": ("t-shirt", ("cotton", "linen", "wool"), (10, 60), ("tee", "top")),
    "jeans": ("jeans", ("denim",), (30, 150), ("trousers", "pants")),
    "watches": ("watch", ("steel", "leather", "titanium"), (80, 900), ("wristwatch", "timepiece")),
    "sunglasses": ("sunglasses", ("acetate", "metal"), (20, 250), ("shades", "eyewear")),
    "mugs": ("mug", ("ceramic", "enamel", "glass"), (8, 40), ("cup", "coffee cup")),
    "lamps": ("lamp", ("brass", "wood", "ceramic", "steel"), (25, 300), ("light", "lighting")),
    "chairs": ("chair", ("wood", "steel", "velvet", "leather"), (60, 700), ("seat", "armchair")),
    "kettles": ("kettle", ("steel", "enamel", "glass"), (20, 150), ("teakettle", "water boiler")),
}

BRANDS = ("Northwind", "Acme", "Lumen", "Fjord", "Kestrel", "Marlow", "Oakridge", "Velo")
STYLES = ("classic", "slim", "oversized", "vintage", "minimal", "sporty", "everyday", "premium")


@dataclass(frozen=True)
class SampleProduct:
    sku: str
    title: str
    description: str
    brand: str
    category: str
    colour: str
    material: str
    price: str
    in_stock: bool
    attributes: dict = field(default_factory=dict)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# The demo shop leads with the products a newcomer is likely to type first.
FEATURED: dict[str, tuple[str, str]] = {
    "jackets": ("red", "leather"),
    "dresses": ("blue", "linen"),
    "sneakers": ("white", "canvas"),
    "boots": ("brown", "leather"),
    "handbags": ("black", "leather"),
    "backpacks": ("green", "canvas"),
    "t-shirts": ("grey", "cotton"),
    "jeans": ("navy", "denim"),
    "watches": ("black", "steel"),
    "sunglasses": ("black", "acetate"),
    "mugs": ("yellow", "ceramic"),
    "lamps": ("white", "brass"),
    "chairs": ("brown", "wood"),
    "kettles": ("red", "enamel"),
}


def generate_products(
    count: int,
    *,
    seed: int = 7,
    featured: bool = False,
    colours: dict[str, tuple[int, int, int]] | None = None,
) -> list[SampleProduct]:
    """`count` products cycling through the categories; with `featured`, the first product of
    each category has the colour and material in FEATURED (the rest is unchanged). Colours
    come from `colours` (default COLOURS; SWATCH_COLOURS for the whole palette)."""
    rng = random.Random(seed)
    categories = list(CATEGORIES)
    colour_names = list(colours or COLOURS)
    products = []
    for number in range(count):
        category = categories[number % len(categories)]
        noun, materials, (low, high), synonyms = CATEGORIES[category]
        colour = rng.choice(colour_names)
        material = rng.choice(materials)
        if featured and number < len(categories):
            colour, material = FEATURED[category]
        brand = rng.choice(BRANDS)
        style = rng.choice(STYLES)
        title = f"{colour.capitalize()} {material} {noun}".replace("jeans jeans", "jeans")
        if rng.random() < 0.5:
            title = f"{style.capitalize()} {title[0].lower()}{title[1:]}"
        synonym = rng.choice(synonyms)
        description = (
            f"{_article(style).capitalize()} {style} {colour} {noun} made of {material} by {brand}. "
            f"{_article(synonym).capitalize()} {synonym} for every day; see the size guide for fit."
        )
        price = f"{rng.uniform(low, high):.2f}"
        products.append(
            SampleProduct(
                sku=f"{brand[:2].upper()}-{noun[:3].upper()}-{number + 1:04d}",
                title=title,
                description=description,
                brand=brand,
                category=category,
                colour=colour,
                material=material,
                price=price,
                in_stock=rng.random() > 0.15,
                attributes={"colour": colour, "material": material, "style": style},
            )
        )
    return products


def create_sample_product(
    merchant: "Merchant",
    sample: SampleProduct,
    *,
    images: int = 1,
    image_size: int = 512,
    backdrop: str = "plain",
) -> "Product":
    """Create `sample` for `merchant` through the catalogue services (so the signals fire and
    the workers index it), with `images` drawn pictures (variants 0, 1, ...) on `backdrop`."""
    from catalog import services  # the services import models; this module stays plain

    product = services.product_create(
        merchant=merchant,
        sku=sample.sku,
        title=sample.title,
        description=sample.description,
        brand=sample.brand,
        category=sample.category,
        price=sample.price,
        in_stock=sample.in_stock,
        attributes=sample.attributes,
    )
    for variant in range(images):
        services.product_image_create(
            product=product,
            data=draw_product(sample, size=image_size, variant=variant, backdrop=backdrop),
        )
    return product


def draw_product(
    product: SampleProduct, *, size: int = 512, variant: int = 0, backdrop: str = "plain"
) -> bytes:
    """A JPEG of a simple drawing of the product in its colour, on a plain light backdrop or
    (``backdrop="textured"``) a patterned one: noise, stripes, checks, grain or a gradient."""
    if backdrop not in BACKDROPS:
        raise ValueError(f"backdrop must be one of {BACKDROPS}")
    rng = random.Random(f"{product.sku}-{variant}")
    background = tuple(
        int(v) for v in (rng.randint(225, 250), rng.randint(225, 250), rng.randint(220, 245))
    )
    image = Image.new("RGB", (size, size), background)
    if backdrop == "textured":
        # Its own random stream: the plain drawing stays the same picture it always was.
        image = _textured_backdrop(size, random.Random(f"{product.sku}-{variant}-backdrop"))
    draw = ImageDraw.Draw(image)
    colour = SWATCH_COLOURS[product.colour]
    accent = tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in colour)
    s = size / 100
    shift = rng.uniform(-4, 4) + (variant * 5)

    def box(x0, y0, x1, y1):
        return [((x0 + shift) * s, y0 * s), ((x1 + shift) * s, y1 * s)]

    def poly(points):
        return [((x + shift) * s, y * s) for x, y in points]

    shape = product.category
    if shape in ("jackets", "t-shirts"):
        sleeve = 78 if shape == "jackets" else 45
        draw.polygon(
            poly(
                [
                    (30, 20),
                    (70, 20),
                    (92, sleeve - 10),
                    (82, sleeve),
                    (70, 40),
                    (70, 88),
                    (30, 88),
                    (30, 40),
                    (18, sleeve),
                    (8, sleeve - 10),
                ]
            ),
            fill=colour,
        )
        if shape == "jackets":
            draw.line(poly([(50, 22), (50, 88)]), fill=accent, width=int(2 * s))
    elif shape == "dresses":
        draw.polygon(
            poly([(40, 12), (60, 12), (64, 35), (82, 90), (18, 90), (36, 35)]), fill=colour
        )
    elif shape in ("sneakers", "boots"):
        top = 25 if shape == "boots" else 50
        draw.polygon(
            poly([(20, top), (45, top), (48, 62), (85, 68), (88, 80), (15, 80)]), fill=colour
        )
        draw.rectangle(
            box(15, 80, 88, 86), fill=(235, 235, 235) if shape == "sneakers" else (40, 30, 25)
        )
    elif shape == "handbags":
        draw.arc(box(32, 18, 68, 55), 180, 360, fill=accent, width=int(4 * s))
        draw.rounded_rectangle(box(20, 38, 80, 85), radius=int(6 * s), fill=colour)
    elif shape == "backpacks":
        draw.rounded_rectangle(box(25, 15, 75, 88), radius=int(14 * s), fill=colour)
        draw.rounded_rectangle(box(33, 55, 67, 80), radius=int(5 * s), fill=accent)
    elif shape == "jeans":
        draw.polygon(
            poly([(28, 12), (72, 12), (78, 90), (56, 90), (50, 40), (44, 90), (22, 90)]),
            fill=colour,
        )
    elif shape == "watches":
        draw.rectangle(box(42, 5, 58, 95), fill=accent)
        draw.ellipse(box(28, 30, 72, 74), fill=colour, outline=(60, 60, 60), width=int(2 * s))
        draw.ellipse(box(34, 36, 66, 68), fill=(245, 245, 240))
    elif shape == "sunglasses":
        draw.ellipse(box(12, 38, 46, 66), fill=colour)
        draw.ellipse(box(54, 38, 88, 66), fill=colour)
        draw.line(poly([(46, 48), (54, 48)]), fill=colour, width=int(3 * s))
    elif shape == "mugs":
        draw.rectangle(box(28, 30, 66, 82), fill=colour)
        draw.arc(box(56, 42, 82, 68), 270, 90, fill=colour, width=int(5 * s))
    elif shape == "lamps":
        draw.polygon(poly([(35, 15), (65, 15), (78, 45), (22, 45)]), fill=colour)
        draw.rectangle(box(47, 45, 53, 82), fill=accent)
        draw.rectangle(box(35, 82, 65, 88), fill=accent)
    elif shape == "chairs":
        draw.rectangle(box(28, 12, 36, 88), fill=colour)
        draw.rectangle(box(28, 52, 72, 60), fill=colour)
        draw.rectangle(box(64, 60, 72, 88), fill=colour)
    else:  # kettles
        draw.ellipse(box(25, 30, 75, 85), fill=colour)
        draw.polygon(poly([(72, 50), (92, 38), (76, 62)]), fill=colour)
        draw.arc(box(32, 14, 68, 46), 180, 360, fill=accent, width=int(4 * s))
    image = image.filter(ImageFilter.GaussianBlur(radius=0.6))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


# Backdrop tones: light and mid neutrals and pale tints, as product photos use.
BACKDROP_TONES = (
    (236, 234, 228),
    (214, 214, 216),
    (190, 192, 196),
    (232, 222, 205),
    (222, 232, 238),
    (240, 228, 230),
    (160, 162, 165),
)


def _textured_backdrop(size: int, rng: random.Random) -> Image.Image:
    """A patterned backdrop in one or two nearby tones (numpy, so it costs milliseconds)."""
    import numpy as np

    base = np.array(rng.choice(BACKDROP_TONES), dtype=np.float32)
    other = np.clip(base + rng.uniform(-28, 28), 0, 255)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    kind = rng.choice(("noise", "stripes", "checks", "grain", "gradient"))
    if kind == "stripes":
        period = rng.uniform(0.04, 0.12)
        weight = ((xs + ys * rng.uniform(-1, 1)) / period % 1.0 < 0.5).astype(np.float32)
    elif kind == "checks":
        period = rng.uniform(0.05, 0.15)
        weight = ((np.floor(xs / period) + np.floor(ys / period)) % 2).astype(np.float32)
    elif kind == "grain":
        phase = np.random.default_rng(rng.randrange(2**32)).normal(0, 0.6, (1, size))
        weight = 0.5 + 0.5 * np.sin(ys * rng.uniform(20, 60) + phase * 3 + xs * 4)
    elif kind == "gradient":
        weight = xs * 0.6 + ys * 0.4
    else:
        weight = np.full((size, size), 0.5, dtype=np.float32)
    pixels = base + (other - base) * weight[..., None]
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 9), pixels.shape)
    pixels = np.clip(pixels + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")
