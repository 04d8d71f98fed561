"""What the webhooks app announces; workers/receivers.py sends the deliveries after commit."""

from django.dispatch import Signal

# delivery_ids (list of ints): deliveries waiting for their first attempt
deliveries_created = Signal()
