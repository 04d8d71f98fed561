"""Dominant colours of a product photo, from its pixels alone (no model).

1. The background is estimated from the image border: the border's pixels are clustered in
   CIELAB, and every cluster holding a fair share of the border is a background mode (a plain
   backdrop gives one mode, a striped or patterned one several). A pixel is background when
   it lies within a mode's own spread of that mode, so a noisy or textured backdrop is
   recognised as well as a plain one.
2. What is left, less a one-pixel rim (anti-aliased edges are mixtures of product and
   background), is the product. It is clustered in CIELAB (k-means) and each cluster is
   named by the palette; clusters with the same name are merged and their shares summed.
3. When almost nothing differs from the border (a white product on a white sweep), the
   product is taken to be the colour of what fills the frame.

Accuracy of the top colour on the sample generator's catalogue (plain and textured
backdrops): bench/enrichment.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.cluster.vq import kmeans2
from scipy.ndimage import binary_erosion

from search.enrichment.palette import Palette, srgb_to_lab

# Images are read at this size: colours need no detail, and it bounds the cost per image.
WORK_EDGE = 96
BORDER_FRACTION = 0.06
BORDER_CLUSTERS = 4
BORDER_MODE_MIN_SHARE = 0.12  # of the border's pixels; less is a product touching the edge
BACKGROUND_MIN_DELTA = 7.0
BACKGROUND_SPREAD_FACTOR = 2.5
PRODUCT_MIN_SHARE = 0.02  # of the image; less means the product blends into the backdrop
PRODUCT_CLUSTERS = 5
MIN_COLOUR_SHARE = 0.05  # colours smaller than this in the product are noise, not colours


@dataclass(frozen=True)
class ColourShare:
    name: str
    share: float  # of the product's pixels
    hex: str  # the cluster's mean colour, for display

    def as_dict(self) -> dict:
        return {"name": self.name, "share": round(self.share, 3), "hex": self.hex}


def _pixels(data: bytes | Image.Image) -> np.ndarray:
    image = data if isinstance(data, Image.Image) else Image.open(io.BytesIO(data))
    image = image.convert("RGB")
    image.thumbnail((WORK_EDGE, WORK_EDGE), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def _border_mask(height: int, width: int) -> np.ndarray:
    band = max(2, round(min(height, width) * BORDER_FRACTION))
    mask = np.zeros((height, width), dtype=bool)
    mask[:band, :] = mask[-band:, :] = True
    mask[:, :band] = mask[:, -band:] = True
    return mask


def _kmeans(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres and labels; deterministic (seeded), and k shrinks to the distinct points."""
    k = max(1, min(k, len(np.unique(points.round(1), axis=0))))
    centres, labels = kmeans2(points.astype(np.float64), k, minit="++", seed=0, iter=15)
    return centres.astype(np.float32), labels


def background_mask(lab: np.ndarray) -> np.ndarray:
    """True where a pixel matches one of the backdrop's modes, as seen on the border."""
    height, width, _ = lab.shape
    border = lab[_border_mask(height, width)]
    centres, labels = _kmeans(border, BORDER_CLUSTERS)
    flat = lab.reshape(-1, 3)
    background = np.zeros(len(flat), dtype=bool)
    for cluster, centre in enumerate(centres):
        members = border[labels == cluster]
        if len(members) < BORDER_MODE_MIN_SHARE * len(border):
            continue
        spread = float(np.sqrt(((members - centre) ** 2).sum(axis=1).mean()))
        radius = max(BACKGROUND_MIN_DELTA, BACKGROUND_SPREAD_FACTOR * spread)
        background |= np.linalg.norm(flat - centre, axis=1) < radius
    return background.reshape(height, width)


def _to_hex(rgb: np.ndarray) -> str:
    r, g, b = (int(round(v)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def dominant_colours(data: bytes | Image.Image, palette: Palette) -> list[ColourShare]:
    """The product's colours by share, largest first (shares of the product's pixels)."""
    rgb = _pixels(data)
    lab = srgb_to_lab(rgb)
    product = ~background_mask(lab)
    # Anti-aliased rims mix product and backdrop: leave them out where the product is large
    # enough to lose them.
    eroded = binary_erosion(product, iterations=1)
    if eroded.sum() >= PRODUCT_MIN_SHARE * product.size:
        product = eroded
    if product.sum() < PRODUCT_MIN_SHARE * product.size:
        product = np.ones_like(product)  # the product is the colour of its backdrop
    points = lab[product]
    colours = rgb[product].astype(np.float32)
    centres, labels = _kmeans(points, PRODUCT_CLUSTERS)
    names = palette.name_of(centres)
    totals: dict[str, float] = {}
    means: dict[str, np.ndarray] = {}
    for cluster, name in enumerate(names):
        members = labels == cluster
        count = float(members.sum())
        if not count:
            continue
        totals[name] = totals.get(name, 0.0) + count
        mean = colours[members].mean(axis=0)
        means[name] = mean if name not in means else (means[name] + mean) / 2
    total = sum(totals.values())
    shares = [
        ColourShare(name=name, share=count / total, hex=_to_hex(means[name]))
        for name, count in totals.items()
        if count / total >= MIN_COLOUR_SHARE
    ]
    return sorted(shares, key=lambda c: (-c.share, c.name))


def product_colours(per_image: list[list[dict]], *, min_share: float, limit: int = 3) -> list[dict]:
    """A product's colours from its images' colours: the mean share over the images, the
    names with at least ``min_share`` (at most ``limit``), largest first."""
    if not per_image:
        return []
    sums: dict[str, float] = {}
    swatch: dict[str, str] = {}
    for colours in per_image:
        for colour in colours:
            sums[colour["name"]] = sums.get(colour["name"], 0.0) + float(colour["share"])
            swatch.setdefault(colour["name"], colour.get("hex", ""))
    ranked = sorted(
        ((name, total / len(per_image)) for name, total in sums.items()),
        key=lambda pair: (-pair[1], pair[0]),
    )
    kept = [(name, share) for name, share in ranked if share >= min_share][:limit]
    if not kept and ranked:
        kept = ranked[:1]  # a product always has its main colour
    return [{"name": name, "share": round(share, 3), "hex": swatch[name]} for name, share in kept]
