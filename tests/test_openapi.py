"""Schemathesis against our own OpenAPI schema: generated requests find no 500s and no
response that breaks the schema. Bounded here (SCHEMATHESIS_MAX_EXAMPLES); `make schemathesis`
runs it longer."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import ProductFactory, merchant_with_owner

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))


@pytest.fixture(autouse=True)
def _api_under_test(db, clip_settings, detector_settings, settings):
    # Throttling is tested on its own; here it would only turn generated requests into 429s.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "search_text_anon": "100000/min",
            "search_photo_anon": "100000/min",
            "search_text_user": "100000/min",
            "search_photo_user": "100000/min",
            "rerank": "100000/min",
            "analytics_events": "100000/min",
        },
    }
    # Calling the WSGI app directly would close the test's database connection after each
    # request; Django's own test client switches that off the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def merchant_token(db):
    merchant, user = merchant_with_owner(name="Schema Shop")
    ProductFactory(merchant=merchant)
    return Token.objects.get_or_create(user=user)[0].key


# The bulk upsert takes JSON lines as text; schemathesis sends its generated strings as they are.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# Building the schema needs no database: drf-spectacular reads the views.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, merchant_token):
    # Every check but "schema-valid data is accepted": business rules (a taken SKU, a wrong
    # password, a product of another merchant) rightly refuse some well-formed requests.
    case.call_and_validate(
        headers={"Authorization": f"Token {merchant_token}"},
        excluded_checks=[positive_data_acceptance],
    )
