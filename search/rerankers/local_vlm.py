"""Re-ranking with a vision-language model run in-process through transformers.

For deployments without an inference server. Candidates are scored one after another
(on a CPU, concurrent generation only makes each answer slower), and generation stops at
the deadline. The model is loaded once per process, lazily, under a lock.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from search.encoding.base import MODEL_LOAD_LOCK
from search.encoding.hub import offline

from .base import (
    CandidateReranker,
    RerankCandidate,
    RerankError,
    RerankInvalidReply,
    RerankQuery,
    RerankTimeout,
    Scored,
    candidate_image,
    parse_score,
    prompt_parts,
    seconds_left,
    shrink,
)

logger = logging.getLogger(__name__)

MAX_NEW_TOKENS = 40


class LocalVLMReranker(CandidateReranker):
    def __init__(
        self,
        model_dir_or_hub_id: str,
        *,
        revision: str | None = None,
        max_new_tokens: int = MAX_NEW_TOKENS,
    ):
        self.source = model_dir_or_hub_id
        self.revision = revision
        self.max_new_tokens = max_new_tokens
        path = Path(model_dir_or_hub_id)
        self._local_dir = path.is_dir()
        # A directory's name, not its path: clients see this, the server's layout is not theirs.
        self.model = path.name if self._local_dir else model_dir_or_hub_id
        self._processor: Any = None
        self._vlm: Any = None
        self._load_lock = threading.Lock()
        # One generation at a time per process; a second search waits its turn (within its
        # own deadline) instead of halving the speed of both.
        self._generate_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalVLMReranker({self.source!r})"

    @property
    def loaded(self) -> bool:
        return self._vlm is not None

    def load(self, *, timeout: float = -1) -> None:
        """Load processor and model once; later calls return at once.

        With ``timeout`` (seconds), gives up waiting for another thread's load with
        ``RerankTimeout`` (the other thread carries on loading).
        """
        if self._vlm is not None:
            return
        if not self._load_lock.acquire(timeout=timeout):
            raise RerankTimeout()
        try:
            if self._vlm is None:
                with MODEL_LOAD_LOCK:
                    self._processor, self._vlm = self._from_pretrained()
        finally:
            self._load_lock.release()

    def _from_pretrained(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        options: dict[str, Any] = {"local_files_only": self._local_dir or offline()}
        if self.revision and not self._local_dir:
            options["revision"] = self.revision
        started = time.monotonic()
        processor = AutoProcessor.from_pretrained(self.source, **options)
        on_gpu = torch.cuda.is_available()
        vlm = AutoModelForImageTextToText.from_pretrained(
            self.source, dtype="auto" if on_gpu else torch.float32, **options
        )
        # transformers types its .to() wrapper as taking the model itself; it takes a device.
        vlm.to(torch.device("cuda" if on_gpu else "cpu"))  # type: ignore[arg-type]
        vlm.eval()
        logger.info("loaded re-rank model %s in %.1fs", self.model, time.monotonic() - started)
        return processor, vlm

    # --- scoring

    def score_all(
        self, query: RerankQuery, candidates: Sequence[RerankCandidate], *, deadline: float
    ) -> list[Scored]:
        if query.image is not None:
            # Decoded and shrunk once for all candidates; still only in memory.
            query = RerankQuery(
                text=query.text, image=shrink(query.image), fingerprint=query.fingerprint
            )
        return super().score_all(query, candidates, deadline=deadline)

    def score_one(
        self, query: RerankQuery, candidate: RerankCandidate, *, deadline: float
    ) -> float:
        self.load(timeout=seconds_left(deadline))
        answer = self._generate(query, candidate, deadline)
        score = parse_score(answer)
        if score is None:
            raise RerankInvalidReply()
        return score

    def _generate(self, query: RerankQuery, candidate: RerankCandidate, deadline: float) -> str:
        content: list[dict[str, str]] = []
        images = []
        for kind, value in prompt_parts(query, candidate):
            if kind == "text":
                content.append({"type": "text", "text": value})
            else:
                content.append({"type": "image"})
                images.append(query.image if value == "query" else candidate_image(candidate))
        return self._answer(content, images, deadline, self.max_new_tokens)

    def ask(self, text: str, images: Sequence[bytes], *, deadline: float, max_tokens: int) -> str:
        """One question about some JPEG images; the model's text answer. Used to draft product
        copy (search/enrichment/drafts.py), as the endpoint back end's ``ask``."""
        self.load(timeout=seconds_left(deadline))
        decoded = []
        for data in images:
            try:
                with Image.open(io.BytesIO(data)) as image:
                    decoded.append(shrink(image))
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                raise RerankError("image unreadable") from exc
        content = [{"type": "text", "text": text}] + [{"type": "image"} for _ in decoded]
        return self._answer(content, decoded, deadline, max_tokens)

    def _answer(
        self, content: list[dict[str, str]], images: list, deadline: float, max_new_tokens: int
    ) -> str:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Deadline(StoppingCriteria):
            reached = False

            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                self.reached = self.reached or time.monotonic() >= deadline
                return torch.full(
                    (input_ids.shape[0],), self.reached, dtype=torch.bool, device=input_ids.device
                )

        stop_at_deadline = _Deadline()
        messages = [{"role": "user", "content": content}]
        try:
            prompt = self._processor.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False
            )
            inputs = self._processor(text=prompt, images=images, return_tensors="pt")
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("re-rank model %s cannot take this prompt: %s", self.model, exc)
            raise RerankError("model input error") from exc
        # Floating-point inputs (pixel values) in the model's dtype: bf16 weights on a GPU.
        inputs = inputs.to(self._vlm.device, dtype=self._vlm.dtype)
        prompt_length = inputs["input_ids"].shape[1]

        if not self._generate_lock.acquire(timeout=seconds_left(deadline)):
            raise RerankTimeout()
        try:
            with torch.inference_mode():
                output = self._vlm.generate(
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    stopping_criteria=StoppingCriteriaList([stop_at_deadline]),
                )
        finally:
            self._generate_lock.release()
        if stop_at_deadline.reached:
            # Cut short by the deadline: whatever came out is not an answer.
            raise RerankTimeout()
        return self._processor.batch_decode(output[:, prompt_length:], skip_special_tokens=True)[0]
