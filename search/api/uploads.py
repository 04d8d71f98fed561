"""Shopper photos: kept in memory, one file part only, and a bounded number decoded at once.

Django's default handlers spill uploads above FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary
file. The search endpoint keeps its one photo in memory and stops storing one byte past the
cap, so an oversized photo is refused by the usual byte check without being held in full;
any other file part is refused before it is read (config/uploads.py).

Decoding a photo is where a request's memory peaks (bench/hostile_photos.py): each process
decodes at most QUERY_IMAGE_DECODES photos at once; a request that cannot get a turn within
DECODE_WAIT_SECONDS answers 503 with Retry-After rather than adding its peak to the others'.
"""

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from PIL import Image
from rest_framework.exceptions import ValidationError

from catalog.intake import ImageRejected, decode_query_image, read_upload
from config.api import ServiceUnavailable
from config.uploads import ExpectedFileParts

DECODE_WAIT_SECONDS = 2.0
DECODE_RETRY_AFTER_SECONDS = 2


def photo_upload_handlers(request) -> list[FileUploadHandler]:
    return [ExpectedFileParts(request, names={"image"}), InMemoryCappedUploadHandler(request)]


class InMemoryCappedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.cap = settings.MAX_UPLOAD_BYTES + 1

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = self.cap - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])
        return None  # nothing for later handlers: no temporary file anywhere

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.buffer.getbuffer().nbytes,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


class _DecodeSlots:
    """A semaphore sized by QUERY_IMAGE_DECODES, rebuilt when the setting changes (tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = 0
        self._semaphore = threading.BoundedSemaphore(1)

    def semaphore(self) -> threading.BoundedSemaphore:
        size = max(1, settings.QUERY_IMAGE_DECODES)
        with self._lock:
            if size != self._size:
                self._semaphore = threading.BoundedSemaphore(size)
                self._size = size
            return self._semaphore


decode_slots = _DecodeSlots()


@contextmanager
def photo_decode_slot() -> Iterator[None]:
    semaphore = decode_slots.semaphore()
    if not semaphore.acquire(timeout=DECODE_WAIT_SECONDS):
        raise ServiceUnavailable(
            "Too many photo searches are being read right now; try again in a moment.",
            retry_after=DECODE_RETRY_AFTER_SECONDS,
        )
    try:
        yield
    finally:
        semaphore.release()


def decode_photo(upload, *, min_edge: int | None = None) -> tuple[Image.Image, bytes, float]:
    """The shopper's photo read into memory, checked and decoded there (never written to disk,
    storage or logs): the upright image, its bytes (for a fingerprint; drop them soon) and the
    milliseconds it took. A refused file is a 400 on ``image``."""
    started = time.perf_counter()
    with photo_decode_slot():
        try:
            content = read_upload(upload)
            image = decode_query_image(content, min_edge=min_edge)
        except ImageRejected as exc:
            raise ValidationError({"image": exc.detail}) from None
    return image, content, (time.perf_counter() - started) * 1000
