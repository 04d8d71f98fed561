"""VLM re-ranking: the cascade over a loopback chat-completions server, and a tiny local VLM.

Candidate images are solid colours; the test server "sees" the colour of the image it was
sent and scores by it, so a good endpoint visibly re-orders the list.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.rerankers import (
    LocalVLMReranker,
    OpenAICompatibleReranker,
    RerankCandidate,
    Reranker,
    RerankQuery,
    cascade,
    get_reranker,
    parse_score,
    rerank,
)
from tests.search.chat_server import (
    Answer,
    ChatServer,
    Delay,
    Drop,
    Status,
    always,
    nearest_colour,
    score_by_colour,
    solid_image,
)
from tests.search.tiny_vlm import tiny_llava

COLOURS = ["red", "green", "blue", "yellow"]
SCORES = {"red": 2, "green": 5, "blue": 9, "yellow": 7, "black": 6, "white": 1}
BY_SCORE = [2, 3, 1, 0]  # blue 9, yellow 7, green 5, red 2
UNCHANGED = [0, 1, 2, 3]
GENEROUS_MS = 10_000  # the "answers in time" cases: never the limit, even on a busy machine

_fingerprints = itertools.count()


def png_bytes(colour: str) -> bytes:
    buffer = io.BytesIO()
    solid_image(colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_candidates(colours: list[str]) -> list[RerankCandidate]:
    return [
        RerankCandidate(
            image_id=100 + index,
            title=f"{colour} shirt",
            load_image=lambda data=png_bytes(colour): data,
        )
        for index, colour in enumerate(colours)
    ]


def make_query(*, text: str | None = "summer shirt", photo: str | None = None) -> RerankQuery:
    return RerankQuery(
        text=text,
        image=solid_image(photo) if photo else None,
        fingerprint=f"query-{next(_fingerprints)}",
    )


@pytest.fixture(autouse=True)
def _fresh_cache_and_singletons(monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(cascade, "_instances", {})


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer(score_by_colour(SCORES)) as chat_server:
        yield chat_server


@pytest.fixture
def endpoint(server) -> OpenAICompatibleReranker:
    reranker = OpenAICompatibleReranker(server.base_url, "test-vlm", "sk-test")
    yield reranker
    reranker.close()


# --- the cascade over an OpenAI-compatible endpoint


def refuses_json_mode(request):
    if "response_format" in request.body:
        return Status(400, {"error": {"message": "'response_format.type' must be 'json_schema'"}})
    return score_by_colour(SCORES)(request)


def fenced_in_prose(request):
    reply = json.dumps({"reason": "close", "score": SCORES[request.candidate_colour]})
    return Answer(f"Sure! Here is my verdict:\n```json\n{reply}\n```\nHope that helps.")


@pytest.mark.parametrize(
    ("behaviour", "budget_ms", "order", "reranked", "reason"),
    [
        pytest.param(score_by_colour(SCORES), GENEROUS_MS, BY_SCORE, True, None, id="good-json"),
        pytest.param(fenced_in_prose, GENEROUS_MS, BY_SCORE, True, None, id="json-in-prose"),
        pytest.param(refuses_json_mode, GENEROUS_MS, BY_SCORE, True, None, id="no-json-mode"),
        pytest.param(
            always(Answer('{"score": 7, "reason": ')),
            GENEROUS_MS,
            UNCHANGED,
            False,
            "invalid reply",
            id="malformed-json",
        ),
        pytest.param(
            always(Answer('{"score": 85}')),
            GENEROUS_MS,
            UNCHANGED,
            False,
            "invalid reply",
            id="score-off-scale",
        ),
        pytest.param(
            always(Answer("I would say it matches well.")),
            GENEROUS_MS,
            UNCHANGED,
            False,
            "invalid reply",
            id="no-json",
        ),
        pytest.param(
            always(Status(500)),
            GENEROUS_MS,
            UNCHANGED,
            False,
            "endpoint error: HTTP 500",
            id="http-500",
        ),
        pytest.param(
            always(Drop()),
            GENEROUS_MS,
            UNCHANGED,
            False,
            "endpoint error: connection closed",
            id="dropped-connection",
        ),
        pytest.param(
            always(Delay(2, Answer('{"score": 9}'))),
            300,
            UNCHANGED,
            False,
            "timeout",
            id="slower-than-budget",
        ),
    ],
)
def test_endpoint_behaviour_decides_order_flag_and_reason(
    server, endpoint, behaviour, budget_ms, order, reranked, reason
):
    # Given an endpoint that behaves this way for every candidate
    server.behaviour = behaviour
    candidates = make_candidates(COLOURS)

    # When the results are re-ranked
    outcome = rerank(make_query(), candidates, reranker=endpoint, top_n=10, budget_ms=budget_ms)

    # Then the order, the flag and the reason say what happened
    assert outcome.order == order
    assert outcome.reranked is reranked
    assert outcome.reason == reason
    assert outcome.model == "test-vlm"
    assert outcome.scores == ([SCORES[c] for c in COLOURS] if reranked else [None] * 4)


class IgnoresDeadline(Reranker):
    """A back end that takes 2 s whatever the deadline says."""

    model = "ignores-deadline"

    def scores(self, query, candidates, *, deadline):
        time.sleep(2)
        return [5.0] * len(candidates)


def slow_endpoint(server):
    server.behaviour = always(Delay(2, Answer('{"score": 9}')))
    return OpenAICompatibleReranker(server.base_url, "test-vlm")


@pytest.mark.parametrize(
    "make_reranker",
    [
        pytest.param(slow_endpoint, id="endpoint-answers-in-2s"),
        pytest.param(lambda server: IgnoresDeadline(), id="back-end-ignores-deadline"),
    ],
)
def test_slow_back_end_never_holds_the_search_past_its_budget(server, make_reranker):
    # Given a back end that takes 2 s to answer
    reranker = make_reranker(server)
    budget = 0.3

    # When the results are re-ranked within 300 ms
    started = time.monotonic()
    outcome = rerank(
        make_query(), make_candidates(COLOURS), reranker=reranker, budget_ms=int(budget * 1000)
    )
    elapsed = time.monotonic() - started

    # Then the search gets its answer in time, in vector order
    assert elapsed < budget + 0.2
    assert (outcome.reranked, outcome.reason, outcome.order) == (False, "timeout", UNCHANGED)


def test_candidates_that_time_out_keep_their_vector_places(server, endpoint):
    # Given an endpoint that answers at once except for green and yellow images
    def slow_for_green_and_yellow(request):
        if request.candidate_colour in {"green", "yellow"}:
            return Delay(5, Answer('{"score": 10}'))
        return score_by_colour(SCORES)(request)

    server.behaviour = slow_for_green_and_yellow
    candidates = make_candidates(["red", "green", "blue", "yellow", "black"])

    # When the results are re-ranked
    outcome = rerank(make_query(), candidates, reranker=endpoint, budget_ms=1500)

    # Then the answered ones (red 2, blue 9, black 6) are re-ordered among their own places,
    # and green and yellow stay where the vector search put them
    assert outcome.order == [2, 1, 4, 3, 0]
    assert outcome.scores == [2, None, 9, None, 6]
    assert (outcome.reranked, outcome.reason) == (True, "timeout")


def test_only_the_top_n_go_to_the_model(server, endpoint):
    # Given six candidates and a top N of three
    candidates = make_candidates(["red", "green", "blue", "yellow", "black", "white"])

    # When the results are re-ranked
    outcome = rerank(make_query(), candidates, reranker=endpoint, top_n=3, budget_ms=GENEROUS_MS)

    # Then the model saw three images and the order covers those three
    assert sorted(r.candidate_colour for r in server.requests) == ["blue", "green", "red"]
    assert outcome.order == [2, 1, 0]


@pytest.mark.parametrize(
    ("second_fingerprint", "second_model", "new_requests"),
    [
        pytest.param("same", "test-vlm", 0, id="same-query-same-model"),
        pytest.param("other", "test-vlm", 4, id="other-query"),
        pytest.param("same", "other-vlm", 4, id="other-model"),
    ],
)
def test_scores_are_cached_by_query_image_and_model(
    server, second_fingerprint, second_model, new_requests
):
    # Given a query that has been re-ranked once
    candidates = make_candidates(COLOURS)
    first = OpenAICompatibleReranker(server.base_url, "test-vlm")
    rerank(RerankQuery("shirt", None, "same"), candidates, reranker=first, budget_ms=GENEROUS_MS)
    requests_before = len(server.requests)

    # When a query is re-ranked again
    second = OpenAICompatibleReranker(server.base_url, second_model)
    outcome = rerank(
        RerankQuery("shirt", None, second_fingerprint),
        candidates,
        reranker=second,
        budget_ms=GENEROUS_MS,
    )

    # Then only what was not asked before reaches the model, and the order is the same
    assert requests_before == 4
    assert len(server.requests) - requests_before == new_requests
    assert (outcome.order, outcome.reranked) == (BY_SCORE, True)


def test_failures_are_not_cached(server, endpoint):
    # Given an endpoint that failed for a query
    server.behaviour = always(Status(500))
    query, candidates = make_query(), make_candidates(COLOURS)
    failed = rerank(query, candidates, reranker=endpoint, budget_ms=GENEROUS_MS)

    # When it recovers and the same query comes again
    server.behaviour = score_by_colour(SCORES)
    recovered = rerank(query, candidates, reranker=endpoint, budget_ms=GENEROUS_MS)

    # Then the model is asked again and the results are re-ranked
    assert failed.reranked is False
    assert (recovered.reranked, recovered.order) == (True, BY_SCORE)
    assert len(server.requests) == 8


@pytest.mark.parametrize(
    ("api_key", "authorization"),
    [
        pytest.param("sk-secret", "Bearer sk-secret", id="with-key"),
        pytest.param("", None, id="no-key"),
    ],
)
@pytest.mark.parametrize(
    ("text", "photo", "images"),
    [
        pytest.param("red summer shirt", None, ["yellow"], id="words"),
        pytest.param(None, "blue", ["blue", "yellow"], id="photo"),
        pytest.param("in linen", "green", ["green", "yellow"], id="words-and-photo"),
    ],
)
def test_each_request_carries_key_model_words_and_images(
    server, api_key, authorization, text, photo, images
):
    # Given an endpoint configured with (or without) a key
    reranker = OpenAICompatibleReranker(server.base_url, "llava-test", api_key)

    # When one candidate is re-ranked
    rerank(
        make_query(text=text, photo=photo),
        make_candidates(["yellow"]),
        reranker=reranker,
        budget_ms=GENEROUS_MS,
    )

    # Then the request names the model, carries the key, the words, the shopper's photo and
    # the candidate's image as small JPEG data URLs, and asks for JSON
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers.get("authorization") == authorization
    assert request.body["model"] == "llava-test"
    assert request.body["response_format"] == {"type": "json_object"}
    assert all(url.startswith("data:image/jpeg;base64,") for url in request.image_urls)
    assert [nearest_colour(image) for image in request.images] == images
    assert all(max(image.size) <= 384 for image in request.images)
    assert (text or "") in request.text and '"yellow shirt"' in request.text


def test_unreadable_candidate_image_keeps_its_place(server, endpoint):
    # Given a candidate whose stored image cannot be decoded
    candidates = make_candidates(COLOURS)
    candidates[2] = RerankCandidate(image_id=7, title="broken", load_image=lambda: b"not an image")

    # When the results are re-ranked
    outcome = rerank(make_query(), candidates, reranker=endpoint, budget_ms=GENEROUS_MS)

    # Then the others are re-ordered around it (yellow 7, green 5, red 2)
    assert outcome.order == [3, 1, 2, 0]
    assert (outcome.reranked, outcome.reason) == (True, "candidate image unreadable")


# --- back ends that are not the built-in ones, and the settings


class ByTitleLength(Reranker):
    """A back end that only implements ``scores``: titles with more words score higher."""

    model = "by-title-length"

    def scores(self, query, candidates, *, deadline):
        return [float(len(c.title.split())) for c in candidates]


class Broken(Reranker):
    model = "broken"

    def scores(self, query, candidates, *, deadline):
        raise RuntimeError("bug")


class OffScale(Reranker):
    model = "off-scale"

    def scores(self, query, candidates, *, deadline):
        return [11.0, 3.0, None]


@pytest.mark.parametrize(
    ("reranker", "order", "reranked", "reason"),
    [
        pytest.param(ByTitleLength(), [1, 2, 0], True, None, id="scores-only"),
        pytest.param(Broken(), [0, 1, 2], False, "error", id="raises"),
        pytest.param(OffScale(), [0, 1, 2], True, "invalid reply; no score", id="off-scale"),
    ],
)
def test_any_reranker_subclass_plugs_in(reranker, order, reranked, reason):
    # Given candidates whose titles have 1, 3 and 2 words
    candidates = [
        RerankCandidate(1, "cap", lambda: b""),
        RerankCandidate(2, "long sleeve shirt", lambda: b""),
        RerankCandidate(3, "red t-shirt", lambda: b""),
    ]

    # When they are re-ranked by that back end
    outcome = rerank(make_query(), candidates, reranker=reranker, budget_ms=GENEROUS_MS)

    # Then what it returned decides the order, and failures fall back
    assert (outcome.order, outcome.reranked, outcome.reason) == (order, reranked, reason)


@pytest.mark.parametrize(
    ("enabled", "api_base", "model", "local", "reason"),
    [
        pytest.param(False, "http://127.0.0.1:9/v1", "m", "", "disabled", id="disabled"),
        pytest.param(True, "", "", "", "not configured", id="nothing-configured"),
        pytest.param(True, "http://127.0.0.1:9/v1", "", "", "not configured", id="no-model-name"),
    ],
)
def test_rerank_without_a_configured_back_end_keeps_the_order(
    settings, enabled, api_base, model, local, reason
):
    # Given settings that give no usable back end
    settings.RERANK_ENABLED = enabled
    settings.RERANK_API_BASE, settings.RERANK_MODEL = api_base, model
    settings.RERANK_LOCAL_MODEL = local

    # When the results are re-ranked
    outcome = rerank(make_query(), make_candidates(COLOURS))

    # Then nothing changes, and the reason says why
    assert (outcome.order, outcome.reranked, outcome.reason) == (UNCHANGED, False, reason)


def test_rerank_uses_the_endpoint_top_n_and_budget_from_settings(settings, server):
    # Given re-ranking switched on against the endpoint, top 3, in settings
    settings.RERANK_ENABLED = True
    settings.RERANK_API_BASE, settings.RERANK_MODEL = server.base_url, "from-settings"
    settings.RERANK_API_KEY = "sk-settings"
    settings.RERANK_LOCAL_MODEL = ""
    settings.RERANK_TOP_N, settings.RERANK_TIMEOUT_MS = 3, GENEROUS_MS

    # When the results are re-ranked without naming a back end
    outcome = rerank(make_query(), make_candidates(COLOURS))

    # Then the configured endpoint scored the top three
    assert (outcome.order, outcome.reranked, outcome.model) == ([2, 1, 0], True, "from-settings")
    assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-settings"}
    assert len(server.requests) == 3


def test_get_reranker_returns_none_without_configuration(settings):
    # Given no endpoint and no local model
    settings.RERANK_API_BASE, settings.RERANK_LOCAL_MODEL = "", ""

    # When/then
    assert get_reranker() is None


@pytest.mark.parametrize(
    ("api_base", "local", "kind", "model"),
    [
        pytest.param("http://127.0.0.1:9/v1", "", OpenAICompatibleReranker, "vlm-a", id="endpoint"),
        pytest.param("", "local-dir", LocalVLMReranker, "local-dir", id="local"),
        pytest.param(
            "http://127.0.0.1:9/v1",
            "local-dir",
            OpenAICompatibleReranker,
            "vlm-a",
            id="endpoint-wins",
        ),
    ],
)
def test_get_reranker_builds_one_instance_per_configuration(
    settings, tmp_path, api_base, local, kind, model
):
    # Given a configured back end
    if local:
        (tmp_path / local).mkdir()
    settings.RERANK_API_BASE, settings.RERANK_MODEL = api_base, "vlm-a"
    settings.RERANK_LOCAL_MODEL = str(tmp_path / local) if local else ""

    # When it is asked for twice
    first, second = get_reranker(), get_reranker()

    # Then it is the same object of the right kind, reporting the model's name
    assert first is second
    assert (type(first), first.model) == (kind, model)


@pytest.mark.parametrize(
    ("content", "score"),
    [
        ('{"score": 7, "reason": "same colour"}', 7.0),
        ('{"score": 0}', 0.0),
        ('{"score": 10.0}', 10.0),
        ('{"score": "8.5"}', 8.5),
        ('<think>{maybe}</think> {"score": 3, "reason": "x"}', 3.0),
        ('```json\n{"reason": "ok", "score": 6}\n```', 6.0),
        ('{"score": 10.5}', None),
        ('{"score": -1}', None),
        ('{"score": true}', None),
        ('{"score": "high"}', None),
        ('{"score": NaN}', None),
        ('{"rating": 5}', None),
        ('{"score": 7', None),
        ("", None),
        (None, None),
    ],
)
def test_parse_score_reads_leniently_but_validates(content, score):
    assert parse_score(content) == score


# --- a tiny local VLM, built from a config and loaded through from_pretrained


@pytest.fixture(scope="module")
def garbage_vlm_dir(tmp_path_factory) -> Path:
    return tiny_llava(tmp_path_factory.mktemp("vlm") / "tiny-llava-random", answer=None)


@pytest.fixture(scope="module")
def answering_vlm_dir(tmp_path_factory) -> Path:
    return tiny_llava(
        tmp_path_factory.mktemp("vlm") / "tiny-llava-seven",
        answer=["{", '"score"', ":", "7", "}"],
    )


LOCAL_BUDGET_MS = 120_000  # generation on a shared CPU; the deadline itself is tested apart


@pytest.mark.parametrize(
    ("text", "photo"),
    [
        pytest.param("red shirt", None, id="words"),
        pytest.param(None, "red", id="photo"),
        pytest.param("like this", "blue", id="words-and-photo"),
    ],
)
def test_local_model_that_answers_json_reranks_end_to_end(answering_vlm_dir, text, photo):
    # Given a tiny local VLM, loaded through from_pretrained, that answers {"score":7}
    reranker = LocalVLMReranker(str(answering_vlm_dir))

    # When three candidates are re-ranked
    outcome = rerank(
        make_query(text=text, photo=photo),
        make_candidates(["red", "green", "blue"]),
        reranker=reranker,
        budget_ms=LOCAL_BUDGET_MS,
    )

    # Then every candidate got the model's score; equal scores keep the vector order
    assert outcome.scores == [7.0, 7.0, 7.0]
    assert (outcome.order, outcome.reranked, outcome.reason) == ([0, 1, 2], True, None)
    assert outcome.model == "tiny-llava-seven"


def test_local_model_that_writes_garbage_falls_back(garbage_vlm_dir):
    # Given a randomly initialised tiny local VLM
    reranker = LocalVLMReranker(str(garbage_vlm_dir))

    # When candidates are re-ranked
    outcome = rerank(
        make_query(photo="red"),
        make_candidates(["red", "green"]),
        reranker=reranker,
        budget_ms=LOCAL_BUDGET_MS,
    )

    # Then its answers are not taken as scores and the vector order stands
    assert (outcome.order, outcome.scores) == ([0, 1], [None, None])
    assert (outcome.reranked, outcome.reason) == (False, "invalid reply")


def test_local_model_respects_the_deadline(answering_vlm_dir):
    # Given a loaded local VLM
    reranker = LocalVLMReranker(str(answering_vlm_dir))
    reranker.load()

    # When the budget is too small to score anything
    outcome = rerank(
        make_query(), make_candidates(["red", "green"]), reranker=reranker, budget_ms=1
    )

    # Then the vector order stands, for want of time
    assert (outcome.order, outcome.reranked, outcome.reason) == ([0, 1], False, "timeout")


def test_local_model_is_loaded_once_per_process(settings, monkeypatch, answering_vlm_dir):
    # Given the local model in settings, and a count of model loads
    import transformers

    settings.RERANK_API_BASE, settings.RERANK_LOCAL_MODEL = "", str(answering_vlm_dir)
    loads = []
    real = transformers.AutoModelForImageTextToText.from_pretrained

    def counting_from_pretrained(*args, **kwargs):
        loads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(
        transformers.AutoModelForImageTextToText, "from_pretrained", counting_from_pretrained
    )

    # When four threads ask for the re-ranker and use it at the same time
    start = threading.Barrier(4)
    instances = []

    def search():
        start.wait()
        reranker = get_reranker()
        reranker.load()
        instances.append(reranker)

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then they share one instance and the weights were read once
    assert len(instances) == 4 and all(i is instances[0] for i in instances)
    assert loads == [str(answering_vlm_dir)]
    assert instances[0].loaded
