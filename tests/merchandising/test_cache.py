"""Compiled rules are kept per process and reloaded when any process changes a rule: here the
test process and a second Python process share the test database, nothing else."""

import os
import subprocess
import sys
import textwrap
import time

import pytest
from django.db import connection

from merchandising import cache, engine
from merchandising.models import Rule
from search.vector_index.base import SearchFilter

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_PROCESS = textwrap.dedent(
    """
    import sys, time, django
    django.setup()
    from merchandising import engine
    from merchandising.models import Rule
    from search.vector_index.base import SearchFilter
    action = sys.argv[1]
    if action == "write":
        Rule.objects.create(
            name="from elsewhere", kind="synonym", synonym_type="two_way", terms="sofa, couch"
        )
    elif action == "watch":
        assert engine.expand_words("sofa", SearchFilter())[0] == ()  # warm, empty
        print("ready", flush=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if engine.expand_words("sofa", SearchFilter())[0] == ("couch",):
                print("seen", flush=True)
                break
            time.sleep(0.02)
    """
)


def other_process(action: str, **kwargs) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MERCHANDISING_RULES_REFRESH_MS": "100",
    }
    return subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, action],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_a_rule_saved_in_another_process_applies_here_after_the_refresh_interval(settings):
    settings.MERCHANDISING_RULES_REFRESH_MS = 300
    assert engine.expand_words("sofa", SearchFilter())[0] == ()  # compiled and cached here

    writer = other_process("write")
    assert writer.wait(timeout=60) == 0
    time.sleep(0.35)

    assert engine.expand_words("sofa", SearchFilter())[0] == ("couch",)


def test_a_rule_saved_here_reaches_a_process_that_has_its_rules_cached(settings):
    watcher = other_process("watch")
    assert watcher.stdout is not None
    assert watcher.stdout.readline().strip() == "ready"

    Rule.objects.create(name="here", kind="synonym", synonym_type="two_way", terms="sofa,couch")

    assert watcher.stdout.readline().strip() == "seen"
    assert watcher.wait(timeout=30) == 0


def test_within_the_interval_the_cached_rules_are_used_without_asking_the_database(
    settings, django_assert_num_queries
):
    settings.MERCHANDISING_RULES_REFRESH_MS = 60_000
    cache.current_rules()

    with django_assert_num_queries(0):
        engine.expand_words("sofa", SearchFilter())
