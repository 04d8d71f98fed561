"""Splitting long id lists into batches."""

from collections.abc import Iterable, Iterator


def iter_chunks(items: Iterable[int], size: int) -> Iterator[list[int]]:
    """Lists of at most ``size`` items, in order."""
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
