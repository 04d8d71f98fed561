"""Re-ranking through an OpenAI-compatible chat completions endpoint.

One request per candidate (the shopper's words and/or photo plus that candidate's image),
sent concurrently, so the step takes as long as the slowest single answer rather than the
sum. The same wire format is spoken by OpenAI, vLLM, Ollama (``/v1``) and LM Studio.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import httpx

from .base import (
    CandidateReranker,
    RerankCandidate,
    RerankEndpointError,
    RerankError,
    RerankInvalidReply,
    RerankQuery,
    RerankTimeout,
    Scored,
    candidate_image,
    jpeg_bytes,
    parse_score,
    prompt_parts,
    seconds_left,
)

logger = logging.getLogger(__name__)

MAX_CONCURRENCY = 8
MAX_REPLY_TOKENS = 100


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


class OpenAICompatibleReranker(CandidateReranker):
    def __init__(
        self,
        api_base: str,
        model: str,
        api_key: str | None = None,
        *,
        max_concurrency: int = MAX_CONCURRENCY,
    ):
        self.api_base = api_base.rstrip("/")
        self.url = f"{self.api_base}/chat/completions"
        self.model = model
        self.max_concurrency = max(1, max_concurrency)
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        # One client per process: its pool keeps connections to the endpoint alive between
        # searches (TLS handshakes are a large part of a short request).
        self._client = httpx.Client(
            headers=headers,
            limits=httpx.Limits(
                max_connections=4 * self.max_concurrency,
                max_keepalive_connections=2 * self.max_concurrency,
            ),
        )
        # Not every server accepts response_format={"type": "json_object"} (LM Studio wants a
        # schema); the first refusal turns it off for this process, and answers are read
        # leniently either way.
        self._json_mode = True
        self._json_mode_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAICompatibleReranker({self.api_base!r}, {self.model!r})"

    def close(self) -> None:
        self._client.close()

    # --- scoring

    def score_all(
        self, query: RerankQuery, candidates: Sequence[RerankCandidate], *, deadline: float
    ) -> list[Scored]:
        if not candidates:
            return []
        # The shopper's photo is encoded once and shared by every request; only in memory.
        query_url = data_url(jpeg_bytes(query.image)) if query.image is not None else None
        results: list[Scored] = [Scored(None, RerankTimeout.reason)] * len(candidates)

        def work(index: int) -> None:
            try:
                results[index] = self._score_safely_with(
                    query, query_url, candidates[index], deadline
                )
            except Exception:  # a bug must cost this candidate its score, not the search
                logger.exception("re-ranking image %s failed", candidates[index].image_id)
                results[index] = Scored(None, "error")

        pool = ThreadPoolExecutor(
            max_workers=min(self.max_concurrency, len(candidates)),
            thread_name_prefix="rerank-http",
        )
        try:
            futures = [pool.submit(work, index) for index in range(len(candidates))]
            # Requests carry their own timeouts (the time left), so this wait ends at the
            # deadline at the latest; whatever has not answered by then stays a timeout.
            wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return list(results)

    def score_one(
        self, query: RerankQuery, candidate: RerankCandidate, *, deadline: float
    ) -> float:
        query_url = data_url(jpeg_bytes(query.image)) if query.image is not None else None
        return self._score_with(query, query_url, candidate, deadline)

    def _score_safely_with(
        self, query: RerankQuery, query_url: str | None, candidate: RerankCandidate, deadline: float
    ) -> Scored:
        if time.monotonic() >= deadline:
            return Scored(None, RerankTimeout.reason)
        try:
            return Scored(self._score_with(query, query_url, candidate, deadline))
        except RerankError as exc:
            return Scored(None, exc.reason)

    def _score_with(
        self, query: RerankQuery, query_url: str | None, candidate: RerankCandidate, deadline: float
    ) -> float:
        candidate_url = data_url(jpeg_bytes(candidate_image(candidate)))
        messages = [
            {"role": "user", "content": self._content(query, query_url, candidate, candidate_url)}
        ]
        reply = self._complete(messages, deadline)
        score = parse_score(_message_text(reply))
        if score is None:
            raise RerankInvalidReply()
        return score

    @staticmethod
    def _content(
        query: RerankQuery, query_url: str | None, candidate: RerankCandidate, candidate_url: str
    ) -> list[dict[str, Any]]:
        urls = {"query": query_url, "candidate": candidate_url}
        content: list[dict[str, Any]] = []
        for kind, value in prompt_parts(query, candidate):
            if kind == "text":
                content.append({"type": "text", "text": value})
            else:
                content.append({"type": "image_url", "image_url": {"url": urls[value]}})
        return content

    def ask(self, text: str, images: Sequence[bytes], *, deadline: float, max_tokens: int) -> str:
        """One question about some JPEG images; the model's text answer (a JSON object asked
        for). Used to draft product copy (search/enrichment/drafts.py)."""
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        content += [{"type": "image_url", "image_url": {"url": data_url(i)}} for i in images]
        reply = self._complete([{"role": "user", "content": content}], deadline, max_tokens)
        answer = _message_text(reply)
        if answer is None:
            raise RerankInvalidReply()
        return answer

    # --- HTTP

    def _complete(
        self, messages: list[dict[str, Any]], deadline: float, max_tokens: int = MAX_REPLY_TOKENS
    ) -> Any:
        json_mode = self._json_mode
        response = self._post(messages, deadline, json_mode=json_mode, max_tokens=max_tokens)
        if json_mode and response.status_code in (400, 422) and _mentions_json(response):
            with self._json_mode_lock:
                if self._json_mode:
                    logger.info("rerank endpoint %s refused JSON mode; asking without it", self.url)
                    self._json_mode = False
            response = self._post(messages, deadline, json_mode=False, max_tokens=max_tokens)
        if response.status_code != 200:
            raise RerankEndpointError(f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise RerankInvalidReply() from exc

    def _post(
        self,
        messages: list[dict[str, Any]],
        deadline: float,
        *,
        json_mode: bool,
        max_tokens: int = MAX_REPLY_TOKENS,
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
        }
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        try:
            return self._client.post(self.url, json=body, timeout=seconds_left(deadline))
        except httpx.TimeoutException as exc:
            raise RerankTimeout() from exc
        except httpx.RemoteProtocolError as exc:
            raise RerankEndpointError("connection closed") from exc
        except httpx.ConnectError as exc:
            raise RerankEndpointError("cannot connect") from exc
        except httpx.HTTPError as exc:
            raise RerankEndpointError(type(exc).__name__) from exc


def _mentions_json(response: httpx.Response) -> bool:
    text = response.text.lower()
    return "response_format" in text or "json" in text


def _message_text(reply: Any) -> str | None:
    """The assistant's text in a chat completion, tolerating servers that send content parts."""
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else None
