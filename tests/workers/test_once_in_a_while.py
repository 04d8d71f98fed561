"""A cause shared by every upload (the model is missing) is logged once in a while."""

import logging

from workers.tasks import OnceInAWhile


def test_the_same_warning_is_said_once_per_period_then_with_a_count(caplog, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("workers.tasks.time.monotonic", lambda: clock[0])
    log = OnceInAWhile(300.0)
    with caplog.at_level(logging.WARNING, logger="workers.tasks"):
        for _ in range(56):
            log.warning("clip", "waits for the model: %s", "CLIP_MODEL missing")
        clock[0] += 301
        log.warning("clip", "waits for the model: %s", "CLIP_MODEL missing")
    assert [record.getMessage() for record in caplog.records] == [
        "waits for the model: CLIP_MODEL missing",
        "waits for the model: CLIP_MODEL missing (55 more like it since the last time)",
    ]
