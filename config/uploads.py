"""Multipart bodies: only the file parts an endpoint expects are read.

Django parses every file part of a multipart body, whatever its name, and hands it to the
upload handlers, which keep it in memory or in a temporary file. Put first among the
handlers, this one refuses a file part the endpoint does not take (and a second part of a
name it takes once) as soon as the part's headers arrive, before any of its bytes are read.
"""

from django.core.files.uploadhandler import FileUploadHandler
from rest_framework.exceptions import ValidationError


class ExpectedFileParts(FileUploadHandler):
    def __init__(self, request=None, *, names: set[str]) -> None:
        super().__init__(request)
        self.names = names
        self.seen: set[str] = set()

    def new_file(self, field_name, *args, **kwargs) -> None:
        super().new_file(field_name, *args, **kwargs)
        expected = ", ".join(sorted(self.names))
        if field_name not in self.names:
            raise ValidationError(
                {field_name: f"Unexpected file part; this endpoint takes {expected}."}
            )
        if field_name in self.seen:
            raise ValidationError({field_name: "Send this file part once."})
        self.seen.add(field_name)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # for the handlers after this one

    def file_complete(self, file_size: int) -> None:
        return None
