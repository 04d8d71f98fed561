"""The project's WSGI application with one switch for bench/search.py: a request carrying
``X-Bench-Understanding: off`` runs with SEARCH_QUERY_UNDERSTANDING off, ``on`` with it on, so
that text searches with and without query understanding alternate request by request on one
server (the embedded store belongs to one process, and blocks on separate servers would
measure the machine's drifting load as much as the feature). Bench only: the setting is
process-wide, so the bench sends these requests from a single client."""

from django.conf import settings

from config.wsgi import application as project_application

HEADER = "HTTP_X_BENCH_UNDERSTANDING"


def application(environ, start_response):
    switch = environ.get(HEADER)
    if switch in ("on", "off"):
        settings.SEARCH_QUERY_UNDERSTANDING = switch == "on"
    return project_application(environ, start_response)
