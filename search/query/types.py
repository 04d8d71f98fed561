"""The values a search passes between its steps: the query, a result, the outcome."""

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from catalog.models import Product
from search.vector_index.base import SearchFilter

LEGS = ("image", "text", "keywords")


class SearchInputError(ValueError):
    """A request the service cannot answer as asked; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    image: Image.Image | None = None
    negative: str | None = None
    text_weight: float | None = None  # share of the text in a text+photo query
    filter: SearchFilter = SearchFilter()
    limit: int = 20
    offset: int = 0
    min_score: float | None = None
    leg_weights: dict[str, float] | None = None  # None: settings; 0 switches a leg off
    similar_to: int | None = None  # product id, for more-like-this
    image_fingerprint: str = ""
    correct: bool = True  # typo tolerance; False searches the words as typed
    understand: bool = True  # False: no query understanding at all (evaluation, bench)
    diversity: float = 0.0  # MMR over the top results (search/query/diversity.py); 0: off
    rules: bool = True  # False: no merchandising rules (search/query/rules_step.py; preview)
    rrf_k: int | None = None  # None: SEARCH_RRF_K (search/query/settings_step.py may set it)
    image_collection: str | None = None  # None: the live image alias; else a built generation

    @property
    def kind(self) -> str:
        if self.similar_to is not None:
            return "similar"
        if self.image is not None:
            return "hybrid" if self.text else "photo"
        return "text"


@dataclass
class ResultItem:
    product_id: int
    score: float
    image_id: int | None
    legs: dict[str, int]  # leg -> rank (1-based) where the product appeared
    leg_scores: dict[str, float]
    product: Product | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    reranked_by: str | None = None
    image_file: str | None = None  # storage names of the matched image, from the point payload
    thumbnail_file: str | None = None
    match: str | None = None  # "identifier": the query is this product's SKU, GTIN or MPN
    rules: list[str] = field(default_factory=list)  # ids of the rules that placed this result


@dataclass
class SearchOutcome:
    query_type: str
    items: list[ResultItem]
    total: int
    facets: dict
    stages: dict[str, float]
    legs: list[str]
    notices: list[str] = field(default_factory=list)
    reranked: bool = False
    rerank_model: str | None = None
    rerank_reason: str | None = None
    corrected: str | None = None  # the query the legs ran, when typos were corrected
    recognised: dict[str, list[str]] = field(default_factory=dict)  # category/brand/colour
    # The image leg's query vector and the CLIP model that made it (for search analytics).
    query_vector: np.ndarray | None = None
    model: str | None = None
    rules: list = field(default_factory=list)  # AppliedRule (search/query/rules_step.py)

    @property
    def took_ms(self) -> float:
        return round(sum(self.stages.values()), 2)
