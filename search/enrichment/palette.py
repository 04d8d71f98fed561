"""The named colour palette shoppers filter by: a dozen names, each a few sRGB shades.

A colour is named by the nearest shade in CIELAB under CIEDE2000, the difference formula
made to match how far apart people see colours (plain Lab distance over-weights saturated
differences and under-weights the blue/purple and grey ranges).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

DEFAULT_PALETTE = Path(__file__).parent / "data" / "palette.json"


def _hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.strip().lstrip("#")
    if len(value) != 6:
        raise ValueError(f"colour {value!r} is not #rrggbb")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` uint8 or 0..1 float sRGB to CIELAB (D65)."""
    array = np.asarray(rgb)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    return rgb2lab(array).astype(np.float32)


@dataclass(frozen=True)
class Palette:
    names: tuple[str, ...]  # one per shade
    shades_lab: np.ndarray  # (shades, 3)
    swatches: dict[str, str]  # name -> #rrggbb shown to shoppers

    @property
    def colour_names(self) -> list[str]:
        return list(dict.fromkeys(self.names))

    def name_of(self, lab: np.ndarray) -> list[str]:
        """The palette name nearest to each ``(n, 3)`` Lab colour."""
        lab = np.asarray(lab, dtype=np.float32).reshape(-1, 1, 3)
        distances = deltaE_ciede2000(lab, self.shades_lab[np.newaxis, :, :])
        return [self.names[i] for i in distances.argmin(axis=1)]


def load_palette(path: str | Path | None = None) -> Palette:
    """The palette in ``path`` (JSON: {"colors": {name: ["#rrggbb", ...]}, "swatches": {...}}),
    or the bundled one."""
    source = Path(path) if path else DEFAULT_PALETTE
    data = json.loads(source.read_text())
    colours = data.get("colors")
    if not isinstance(colours, dict) or not colours:
        raise ValueError(f"{source}: 'colors' must map names to lists of #rrggbb shades")
    names: list[str] = []
    shades: list[tuple[int, int, int]] = []
    for name, values in colours.items():
        for value in values if isinstance(values, list) else [values]:
            names.append(str(name).strip().lower())
            shades.append(_hex_rgb(value))
    swatches = {str(k).lower(): str(v) for k, v in (data.get("swatches") or {}).items()}
    for name, values in colours.items():
        first = values[0] if isinstance(values, list) else values
        swatches.setdefault(str(name).lower(), str(first))
    lab = srgb_to_lab(np.array(shades, dtype=np.uint8).reshape(-1, 3))
    return Palette(names=tuple(names), shades_lab=lab, swatches=swatches)


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _cached(path: str) -> Palette:
    return load_palette(path or None)


def get_palette() -> Palette:
    """The configured palette (``ENRICHMENT_COLOR_PALETTE``), loaded once per process."""
    from django.conf import settings

    with _lock:
        return _cached(str(getattr(settings, "ENRICHMENT_COLOR_PALETTE", "") or ""))
