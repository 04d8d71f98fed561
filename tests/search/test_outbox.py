"""The outbox of index work, in one process: recorded with the change, applied, kept when the
change moves on meanwhile, given back on failure. (tests/faults runs it with real processes.)"""

import pytest
from django.db import transaction
from django.utils import timezone

from catalog import services
from catalog.models import ProductImage
from search.index import generations, outbox
from search.index import sync as indexing
from search.index.consistency import index_status, reconcile
from search.index.documents import product_point_id
from search.models import IndexChange
from search.vector_index import get_vector_index
from search.vector_index.base import VectorStoreUnavailable
from tests.factories import MerchantFactory, jpeg_bytes, merchant_with_owner

pytestmark = pytest.mark.django_db


def new_product(**fields):
    """Through the catalogue service, as the API and the admin create them."""
    new_product.count = getattr(new_product, "count", 0) + 1
    fields.setdefault("price", "49.90")
    return services.product_create(
        merchant=MerchantFactory(),
        sku=f"OUT-{new_product.count}",
        title=f"Outbox lamp {new_product.count}",
        **fields,
    )


def rows() -> dict[tuple[str, int], int]:
    return {(row.kind, row.entity_id): row.version for row in IndexChange.objects.all()}


def test_a_catalogue_change_records_its_work_in_its_own_transaction():
    merchant, _ = merchant_with_owner(name="Harbour")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.product_create(merchant=merchant, sku="A-1", title="Lamp", price="10")
        raise RuntimeError("the request failed after the write")
    assert rows() == {}  # rolled back together

    product = services.product_create(merchant=merchant, sku="A-1", title="Lamp", price="10")
    image = services.product_image_create(product=product, data=jpeg_bytes())
    services.product_update(product=product, data={"price": "12.00"})
    services.product_update(product=product, data={"in_stock": False})
    assert rows() == {("product", product.pk): 3, ("image", image.pk): 1}


def test_the_outbox_receivers_are_held_for_the_life_of_the_process():
    # The receivers are closures of connect_catalog_signals: held weakly (Django's default)
    # they died at the web process's next garbage collection, and uploads through the API
    # recorded no index work at all (bench/ingest.py). Held strongly, the signal keeps the
    # function itself rather than a weak reference to it.
    from catalog import signals

    for signal in (signals.product_changed, signals.image_added, signals.image_deleted):
        held = {entry[0][0]: entry[1] for entry in signal.receivers}
        receiver = next(value for key, value in held.items() if str(key).startswith("search."))
        assert callable(receiver) and receiver.__qualname__.startswith("connect_catalog_signals")


def test_edits_that_the_index_does_not_hold_record_nothing():
    product = new_product()
    IndexChange.objects.all().delete()
    services.product_update(product=product, data={"title": product.title})  # no change
    assert rows() == {}


def test_applied_work_leaves_the_outbox_and_the_index_follows(clip_settings):
    product = new_product(price="30.00")
    services.product_image_create(product=product, data=jpeg_bytes())
    services.product_update(product=product, data={"price": "25.00"})

    applied = outbox.process(outbox.Kind.PRODUCT, limit=10) + outbox.process(
        outbox.Kind.IMAGE, limit=10
    )

    assert applied == 2
    assert rows() == {}
    status = index_status()
    assert status.consistent and status.image_points == 1 and status.product_points == 1


def test_a_change_committed_while_its_work_runs_keeps_the_row_for_another_round(clip_settings):
    product = new_product(price="30.00")
    claimed = outbox.claim(outbox.Kind.PRODUCT, limit=10)
    assert claimed is not None
    outbox.apply(claimed.kind, claimed.entity_ids)  # wrote price 30
    services.product_update(product=product, data={"price": "35.00"})  # meanwhile

    assert outbox.complete(claimed) == 1  # the row stays, due again
    assert outbox.process(outbox.Kind.PRODUCT, limit=10) == 1
    collection, encoder = generations.live_products()
    point = get_vector_index().retrieve(
        collection, [product_point_id(product.pk, encoder.model_key)]
    )
    assert point[0][1]["price"] == 35.0
    assert rows() == {}


def test_a_claimed_row_is_not_claimed_twice_until_its_lease_runs_out(settings):
    settings.INDEX_OUTBOX_LEASE_SECONDS = 60
    product = new_product()
    assert outbox.claim(outbox.Kind.PRODUCT, limit=10) is not None
    assert outbox.claim(outbox.Kind.PRODUCT, limit=10) is None  # another worker's
    IndexChange.objects.update(claimed_until=timezone.now())  # its worker died long ago
    again = outbox.claim(outbox.Kind.PRODUCT, limit=10)
    assert again is not None and again.entity_ids == [product.pk]


def test_failed_work_is_given_back_with_its_reason_and_a_back_off(clip_settings, monkeypatch):
    product = new_product()

    def unreachable(*args, **kwargs):
        raise VectorStoreUnavailable("Qdrant cannot be reached")

    monkeypatch.setattr(indexing, "index_products", unreachable)
    with pytest.raises(outbox.RetryLater) as raised:
        outbox.process(outbox.Kind.PRODUCT, limit=10)

    row = IndexChange.objects.get(entity_id=product.pk)
    assert isinstance(raised.value.__cause__, VectorStoreUnavailable)
    assert row.attempts == 1 and "Qdrant cannot be reached" in row.last_error
    assert row.available_at > timezone.now() and row.claimed_until is None
    assert outbox.status().failing == 1
    assert outbox.process(outbox.Kind.PRODUCT, limit=10) == 0  # not due yet


def test_a_product_deleted_before_its_work_ran_loses_its_points(clip_settings):
    product = new_product()
    services.product_image_create(product=product, data=jpeg_bytes())
    outbox.relay(seconds=30)
    assert index_status().product_points == 1

    services.product_delete(product=product)
    outbox.relay(seconds=30)

    status = index_status()
    assert (status.product_points, status.image_points, status.outbox.depth) == (0, 0, 0)


def test_index_status_sees_stale_filter_values_and_reconcile_repairs_them(clip_settings):
    product = new_product(price="30.00", in_stock=True)
    services.product_image_create(product=product, data=jpeg_bytes())
    outbox.relay(seconds=30)
    # A change that bypassed the services (a raw SQL fix, a restored backup): no outbox row.
    type(product).objects.filter(pk=product.pk).update(price="9.00", in_stock=False)

    assert index_status().stale_payloads == [product.pk]
    assert reconcile()["payloads_synced"] == 1
    assert index_status().consistent


def test_index_status_reports_the_outstanding_work_and_its_age(clip_settings):
    new_product()
    IndexChange.objects.update(created_at=timezone.now() - timezone.timedelta(seconds=90))
    status = index_status()
    assert status.outbox.depth == 1
    assert status.outbox.oldest_age_seconds >= 90
    assert ProductImage.objects.count() == 0


def test_apply_index_work_applies_what_waits_in_the_outbox(clip_settings):
    import io

    from django.core.management import call_command

    new_product()
    out = io.StringIO()
    call_command("apply_index_work", stdout=out)
    assert (
        "applied: 1 product(s), 0 image(s); failed batches: 0; still outstanding: 0"
        in out.getvalue()
    )
    assert index_status().product_points == 1


def test_metrics_report_the_outbox_depth_and_lag(client):
    new_product()
    IndexChange.objects.update(created_at=timezone.now() - timezone.timedelta(seconds=42))
    text = client.get("/metrics").content.decode()
    assert "visual_search_index_outbox_depth 1.0" in text
    lag = next(
        line for line in text.splitlines() if line.startswith("visual_search_index_outbox_oldest")
    )
    assert float(lag.split()[-1]) >= 42


def test_the_fast_path_fills_its_batch_with_other_due_work(clip_settings):
    product = new_product()
    first, second, third = (
        services.product_image_create(product=product, data=jpeg_bytes(colour=(c, 20, 20)))
        for c in (10, 90, 170)
    )
    assert outbox.process(outbox.Kind.IMAGE, entity_ids=[second.pk], limit=2, fill=True) == 2
    left = [entity_id for kind, entity_id in rows() if kind == "image"]
    assert left == [third.pk]  # its own row first, then the oldest other
    assert outbox.process(outbox.Kind.IMAGE, entity_ids=[first.pk], limit=2) == 0  # done
