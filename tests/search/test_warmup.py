"""Warming the search models as a web worker starts."""

import contextlib
import logging
import runpy
import threading

from search.encoding.registry import get_clip_encoder, get_text_encoder
from search.encoding.warmup import warm_models
from tests.deploy.manifests import ROOT


def test_warm_models_loads_both_models_and_their_query_paths(clip_settings, caplog):
    # When the models are warmed
    with caplog.at_level(logging.INFO, logger="search.encoding.warmup"):
        warm_models()

    # Then both encoders are loaded, and the log says so
    for encoder in (get_clip_encoder(), get_text_encoder()):
        assert encoder._model is not None
    assert "warm-up: text model and CLIP ready in" in caplog.text


def test_warm_models_survives_a_model_that_cannot_load(clip_settings, tmp_path, caplog):
    # Given a CLIP_MODEL that is not there
    clip_settings.CLIP_MODEL = str(tmp_path / "no-such-model")
    from search.encoding.registry import reset_encoders

    reset_encoders()

    # When the models are warmed, then nothing is raised and the log names what is missing
    with caplog.at_level(logging.INFO, logger="search.encoding.warmup"):
        warm_models()
    assert "warm-up: CLIP unavailable" in caplog.text
    assert "warm-up: text model ready in" in caplog.text


def _post_worker_init():
    return runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["post_worker_init"]


def test_gunicorn_warms_the_models_in_a_background_thread(monkeypatch):
    # Given the hook, with the warm-up replaced by one that records its thread
    calls = []
    done = threading.Event()

    def record():
        calls.append(threading.current_thread().name)
        done.set()

    monkeypatch.setattr("search.encoding.warmup.warm_models", record)
    monkeypatch.delenv("GUNICORN_WARM_MODELS", raising=False)

    # When a worker starts, then the warm-up runs, off the worker's own thread
    _post_worker_init()(worker=None)
    assert done.wait(10)
    assert calls == ["warm-models"]


def test_gunicorn_can_leave_the_models_to_the_first_search(monkeypatch):
    monkeypatch.setattr(
        "search.encoding.warmup.warm_models", lambda: (_ for _ in ()).throw(AssertionError)
    )
    monkeypatch.setenv("GUNICORN_WARM_MODELS", "false")
    _post_worker_init()(worker=None)  # starts nothing
    assert not [t for t in threading.enumerate() if t.name == "warm-models"]


def test_models_load_one_at_a_time(tiny_clip_dir, monkeypatch):
    """transformers imports lazily; two loads at once once failed a search with "cannot import
    name 'AutoImageProcessor'" while the warm-up thread loaded the text model."""
    from search.encoding.clip import ClipEncoder
    from search.encoding.text import TextEncoder

    # Given a text model whose load is held in the middle
    text_loading, release_text = threading.Event(), threading.Event()

    def slow_text_load(self):
        text_loading.set()
        assert release_text.wait(10)
        raise RuntimeError("the text model's load ends here")

    monkeypatch.setattr(TextEncoder, "_load_locked", slow_text_load)
    loader = threading.Thread(target=lambda: _swallow(TextEncoder("any").load))
    loader.start()
    assert text_loading.wait(10)

    # When CLIP is loaded from another thread meanwhile
    clip = ClipEncoder(str(tiny_clip_dir), None)
    clip_thread = threading.Thread(target=clip.load)
    clip_thread.start()

    # Then CLIP waits for the text model's load to end, and loads after it
    clip_thread.join(0.5)
    assert clip_thread.is_alive() and not clip.loaded
    release_text.set()
    clip_thread.join(60)
    loader.join(10)
    assert clip.loaded


def _swallow(call):
    with contextlib.suppress(RuntimeError):
        call()


def test_a_process_started_with_warm_models_at_start_loads_them_in_the_background(
    settings, monkeypatch
):
    import threading

    from django.apps import apps

    warmed = threading.Event()
    monkeypatch.setattr("search.encoding.warmup.warm_models", warmed.set)
    settings.WARM_MODELS_AT_START = True

    apps.get_app_config("search").ready()  # as `make demo`'s runserver starts

    assert warmed.wait(timeout=10)
