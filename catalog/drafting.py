"""Who drafts product copy, as the catalogue sees it: a function registered at start.

The catalogue admin offers "Draft title/description with AI" without importing the search
side (it sits below it): search/apps.py registers the drafter that asks the configured
vision-language model, and the admin calls whatever is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.models import Product


@dataclass(frozen=True)
class DraftedCopy:
    title: str
    description: str
    attributes: dict[str, str] = field(default_factory=dict)
    model: str = ""


class DraftingFailed(Exception):
    """No draft: no model configured, no answer in time, or no usable answer (the message
    says which, in words a merchant can act on)."""


Drafter = Callable[[Product], DraftedCopy]
_drafter: list[Drafter] = []


def drafter_register(drafter: Drafter) -> None:
    _drafter[:] = [drafter]


def drafter_get() -> Drafter | None:
    return _drafter[0] if _drafter else None
