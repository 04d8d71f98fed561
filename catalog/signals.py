"""Catalogue change notifications.

The catalogue knows nothing of vectors; the workers app listens to these and enqueues
its tasks after the transaction commits. Senders pass ids only.
"""

from django.dispatch import Signal

# product_id, changed_fields (set of field names)
product_changed = Signal()
# product_id
product_deleted = Signal()
# image_id, product_id
image_added = Signal()
# image_id, product_id
image_deleted = Signal()
# image_ids (list of ints): images whose vectors should be computed again
images_reindex_requested = Signal()
# fetch_id: an image to fetch from a merchant's URL (catalog/remote.py)
image_fetch_requested = Signal()
# image_ids, model_revision: images that became searchable (newly, or with a new model)
images_indexed = Signal()
# image_id, reason: an image that could not be indexed
image_failed = Signal()
# product_ids: products whose search document (text, keywords, filters) was written
products_indexed = Signal()
