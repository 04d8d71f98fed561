"""Regions of a shopper's photo: a crop box the shopper drew, or one a detector found.

A box is normalised (0..1) in the photo's upright frame, i.e. after its EXIF orientation is
applied, which is the frame the shopper saw it in: browsers show photos upright, and
``catalog.intake.decode_query_image`` turns them upright before anything else looks at them.
The crop is cut from the decoded photo before CLIP's preprocessing, in memory only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image

from catalog.intake import QUERY_IMAGE_MIN_EDGE
from search.encoding.detector import MIN_BOX_FRACTION, Detection
from search.query.types import SearchInputError

# A crop narrower than this share of the photo is a slip of the finger, not an object; and
# it bounds how large a decode a crop can ask for (decode_edge_for).
MIN_CROP_FRACTION = MIN_BOX_FRACTION
# Below this many decoded pixels on a side CLIP sees an upscaled smear (its input is 224 px).
MIN_CROP_PIXELS = 16

LOOK_DECODE_FACTOR = 2

_SHAPE = "four numbers x0,y0,x1,y1 between 0 and 1 (left, top, right, bottom of the photo)"


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def as_list(self) -> list[float]:
        return [round(self.x0, 4), round(self.y0, 4), round(self.x1, 4), round(self.y1, 4)]


def parse_box(value: Any, *, field: str = "crop") -> Box:
    """A box from a list of four numbers, or a string "x0,y0,x1,y1" (a multipart field) or
    "[x0, y0, x1, y1]"; SearchInputError naming ``field`` for anything else."""
    numbers = _numbers(value, field)
    if any(n < 0 or n > 1 for n in numbers):
        raise SearchInputError(
            field, f"{field} lies outside the photo: give {_SHAPE}; got {_show(numbers)}."
        )
    box = Box(*numbers)
    if box.width <= 0 or box.height <= 0:
        raise SearchInputError(
            field,
            f"{field} is empty or inverted: x1 must be greater than x0 and y1 greater than y0; "
            f"got {_show(numbers)}.",
        )
    if box.width < MIN_CROP_FRACTION or box.height < MIN_CROP_FRACTION:
        raise SearchInputError(
            field,
            f"{field} is too small: each side must be at least {MIN_CROP_FRACTION:g} of the "
            f"photo; got {_show(numbers)}.",
        )
    return box


def _numbers(value: Any, field: str) -> list[float]:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else text.split(",")
        except ValueError:
            value = None
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise SearchInputError(field, f"{field} must be {_SHAPE}.")
    numbers: list[float] = []
    for item in value:
        if isinstance(item, bool):
            raise SearchInputError(field, f"{field} must be {_SHAPE}.")
        try:
            number = float(item.strip() if isinstance(item, str) else item)
        except (TypeError, ValueError):
            raise SearchInputError(field, f"{field} must be {_SHAPE}.") from None
        if not math.isfinite(number):
            raise SearchInputError(field, f"{field} must be {_SHAPE}.")
        numbers.append(number)
    return numbers


def _show(numbers: list[float]) -> str:
    return ",".join(f"{n:g}" for n in numbers)


def decode_edge_for(box: Box | None, *, look: bool = False) -> int:
    """The short side to decode the photo at so that the part searched still gets about
    QUERY_IMAGE_MIN_EDGE pixels on its own short side: a reduced-size decode of the whole
    photo would leave a small crop blurred before CLIP sees it. A look searches items it has
    yet to find, typically a third to a half of the photo across: twice the usual edge."""
    if box is not None:
        return math.ceil(QUERY_IMAGE_MIN_EDGE / min(box.width, box.height))
    return QUERY_IMAGE_MIN_EDGE * (LOOK_DECODE_FACTOR if look else 1)


def pixel_rect(image: Image.Image, box: Box) -> tuple[int, int, int, int]:
    width, height = image.size
    left, top = math.floor(box.x0 * width), math.floor(box.y0 * height)
    right, bottom = math.ceil(box.x1 * width), math.ceil(box.y1 * height)
    return left, top, min(right, width), min(bottom, height)


def crop_image(image: Image.Image, box: Box, *, field: str = "crop") -> Image.Image:
    """The part of the (upright, decoded) photo inside the box, in memory."""
    left, top, right, bottom = pixel_rect(image, box)
    if right - left < MIN_CROP_PIXELS or bottom - top < MIN_CROP_PIXELS:
        raise SearchInputError(
            field,
            f"{field} is too small: it covers {right - left}×{bottom - top} pixels of a "
            f"{image.width}×{image.height} photo; make each side at least {MIN_CROP_PIXELS} "
            "pixels.",
        )
    return image.crop((left, top, right, bottom))


def box_of(detection: Detection) -> Box:
    return Box(*detection.box)
