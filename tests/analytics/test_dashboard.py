"""The dashboard in the admin: the whole shop for superusers, their own merchant's figures
for merchant staff, and every table as CSV."""

import csv
import io

import pytest
from django.test import Client

from analytics.rollups import rollup_run
from tests.analytics.conftest import event, post_events
from tests.analytics.factories import SearchEventFactory
from tests.factories import ProductFactory, UserFactory, merchant_with_owner

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/dailyquerystats/"


@pytest.fixture
def shop(events_unthrottled):
    harbour, owner = merchant_with_owner(name="Harbour")
    maple, _ = merchant_with_owner(name="Maple")
    coat = ProductFactory(merchant=harbour)
    mug = ProductFactory(merchant=maple)
    coats = [
        SearchEventFactory(
            words="coat", product_ids=[coat.pk], scores=[0.7], merchant_ids=[harbour.pk]
        )
        for _ in range(3)
    ]
    SearchEventFactory(words="mug", product_ids=[mug.pk], scores=[0.2], merchant_ids=[maple.pk])
    SearchEventFactory(words="=cmd|calc", product_ids=[], scores=[])
    post_events(event("click", coat.pk, str(coats[0].search_id), position=1))
    rollup_run()
    return {"owner": owner, "harbour": harbour, "maple": maple}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_superuser_sees_the_whole_shop(shop):
    admin = UserFactory(is_staff=True, is_superuser=True)

    page = logged_in(admin).get(URL)

    assert page.status_code == 200
    assert page.context["totals"]["searches"] == 5
    assert [row[0] for row in page.context["tables"][0]["rows"]] == ["coat", "=cmd|calc", "mug"]
    assert b"<svg" in page.content


def test_merchant_staff_see_only_their_merchant(shop):
    client = logged_in(shop["owner"])

    page = client.get(URL)
    other = client.get(URL, {"merchant": shop["maple"].pk})  # not theirs: their own again

    assert page.context["scope"].merchant == shop["harbour"]
    assert page.context["totals"]["searches"] == 3
    assert page.context["totals"]["ctr"] == pytest.approx(1 / 3, abs=1e-3)
    assert other.context["scope"].merchant == shop["harbour"]
    assert "mug" not in page.content.decode()


def test_staff_of_no_merchant_are_refused(shop):
    assert logged_in(UserFactory(is_staff=True)).get(URL).status_code == 403


@pytest.mark.parametrize("table", ["daily", "top_queries", "zero_results", "low_score", "slowest"])
def test_every_table_exports_as_csv(shop, table):
    admin = UserFactory(is_staff=True, is_superuser=True)

    response = logged_in(admin).get(URL, {"export": table, "days": 7})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows and all(row["kind"] == "text" for row in rows)


def test_the_csv_holds_the_dashboard_figures_and_no_formulas(shop):
    admin = UserFactory(is_staff=True, is_superuser=True)

    rows = csv_rows(logged_in(admin).get(URL, {"export": "top_queries"}))

    by_query = {row["query"]: row for row in rows}
    assert by_query["coat"]["searches"] == "3" and by_query["coat"]["ctr"] == "0.3333"
    assert "'=cmd|calc" in by_query  # a formula-looking query is quoted as text
