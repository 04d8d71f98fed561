"""Optional VLM re-ranking of the vector search's best few results.

The search service calls ``rerank`` with the query and the top candidates; the back end
comes from settings (``get_reranker``): an OpenAI-compatible endpoint or a local model.
"""

from .base import RerankCandidate, Reranker, RerankQuery, parse_score
from .cascade import RerankOutcome, get_reranker, rerank
from .local_vlm import LocalVLMReranker
from .openai_compat import OpenAICompatibleReranker

__all__ = [
    "LocalVLMReranker",
    "OpenAICompatibleReranker",
    "RerankCandidate",
    "RerankOutcome",
    "RerankQuery",
    "Reranker",
    "get_reranker",
    "parse_score",
    "rerank",
]
