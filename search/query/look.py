"""Shop the look: detect the items in a shopper's photo, then search each one.

Every group is an ordinary photo (or hybrid) search of the item's crop, so the text, filters,
weights and limit of the request apply to each; the groups run one after another, because
each search already uses the process's encode pool and a web worker serves other shoppers
meanwhile (bench/scenes.py measures detect + N searches).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from PIL import Image

from search.encoding.detector import Detection, ObjectDetector
from search.query.regions import MIN_CROP_PIXELS, box_of, crop_image, pixel_rect
from search.query.service import search
from search.query.types import SearchOutcome, SearchQuery

NO_ITEMS_NOTICE = (
    "No separate items were found in this photo; search the whole photo, or draw a box "
    "around the item you want."
)


@dataclass
class LookGroup:
    detection: Detection
    outcome: SearchOutcome


@dataclass
class LookOutcome:
    groups: list[LookGroup]
    model: str
    stages: dict[str, float]
    notices: list[str] = field(default_factory=list)

    @property
    def took_ms(self) -> float:
        return round(sum(self.stages.values()), 2)


def detect_items(image: Image.Image, detector: ObjectDetector) -> list[Detection]:
    """The detector's boxes that are big enough in this photo to be searched on their own."""
    usable = []
    for detection in detector.detect(image):
        left, top, right, bottom = pixel_rect(image, box_of(detection))
        if min(right - left, bottom - top) >= MIN_CROP_PIXELS:
            usable.append(detection)
    return usable


def search_look(query: SearchQuery, detector: ObjectDetector) -> LookOutcome:
    assert query.image is not None, "a look needs a photo"
    started = time.perf_counter()
    detections = detect_items(query.image, detector)
    detect_ms = (time.perf_counter() - started) * 1000
    groups = []
    started = time.perf_counter()
    for detection in detections:
        item = crop_image(query.image, box_of(detection))
        fingerprint = f"{query.image_fingerprint}:{','.join(map(str, detection.box))}"
        outcome = search(replace(query, image=item, image_fingerprint=fingerprint))
        groups.append(LookGroup(detection=detection, outcome=outcome))
    search_ms = (time.perf_counter() - started) * 1000
    notices = sorted({n for group in groups for n in group.outcome.notices})
    if not groups:
        notices.append(NO_ITEMS_NOTICE)
    return LookOutcome(
        groups=groups,
        model=detector.display_name,
        stages={"detect": round(detect_ms, 3), "search": round(search_ms, 3)},
        notices=notices,
    )
