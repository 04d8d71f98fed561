"""Shop the look: detect the items in a shopper's photo, then search each one.

Every group is an ordinary photo (or hybrid) search of the item's crop, so the text, filters,
weights and limit of the request apply to each; the groups run one after another, because
each search already uses the process's encode pool and a web worker serves other shoppers
meanwhile (bench/scenes.py measures detect + N searches).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from django.conf import settings
from PIL import Image

from search.encoding.detector import Detection, ObjectDetector
from search.query.regions import MIN_CROP_PIXELS, box_of, crop_image, pixel_rect
from search.query.service import facets_for, search
from search.query.types import SearchOutcome, SearchQuery
from search.query.vocabulary import vocabulary_for

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
    facets: dict  # of the request's filters: the same for every group
    notices: list[str] = field(default_factory=list)

    @property
    def took_ms(self) -> float:
        return round(sum(self.stages.values()), 2)


def detector_words(detector: ObjectDetector) -> tuple[str, ...]:
    """What an open-vocabulary detector looks for: DETECTOR_PROMPTS when set, else the names
    of the shop's largest categories (at most DETECT_MAX_PROMPTS: every word is encoded on each
    photo), so that the detector follows the catalogue without a second list to keep."""
    detector.load()
    if not detector.zero_shot or detector.prompts:
        return detector.prompts
    return tuple(vocabulary_for(None).largest_categories(settings.DETECT_MAX_PROMPTS))


def detect_items(image: Image.Image, detector: ObjectDetector) -> list[Detection]:
    """The detector's boxes that are big enough in this photo to be searched on their own."""
    usable = []
    for detection in detector.detect(image, detector_words(detector)):
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
    # Facets depend on the filters only, so every group has the same; without a group they
    # are still what the shopper's filters match, for the page to show and undo.
    facets = groups[0].outcome.facets if groups else facets_for(query.filter)[1]
    return LookOutcome(
        groups=groups,
        model=detector.display_name,
        stages={"detect": round(detect_ms, 3), "search": round(search_ms, 3)},
        facets=facets,
        notices=notices,
    )
