"""Reading a bulk catalogue file (JSON lines or CSV) into rows, before any validation.

A row that cannot be read (bad JSON, not an object) is reported with its line number and
the others go on; a file that cannot be read at all (not UTF-8, no header, too many rows)
is refused whole with BulkFileRejected.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

JSON_LINES_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")
CSV_TYPES = ("text/csv",)
# What happened to each row of a bulk upsert.
ROW_OUTCOMES = ["created", "updated", "unchanged", "failed"]
# A CSV cell is text; these columns hold other types and are left out when empty, so an
# empty cell means "not given" (keep the current value, or the default for a new product).
CSV_TYPED_COLUMNS = frozenset({"price", "currency", "in_stock", "is_active", "attributes"})


class BulkFileRejected(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class BulkRow:
    line: int
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def read_rows(body: bytes, *, content_type: str, max_rows: int) -> list[BulkRow]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BulkFileRejected("The body is not UTF-8 text.") from None
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in CSV_TYPES:
        rows = _csv_rows(text, max_rows)
    elif media_type in JSON_LINES_TYPES:
        rows = _json_lines_rows(text, max_rows)
    else:
        raise BulkFileRejected(
            f"Send JSON lines ({JSON_LINES_TYPES[0]}) or CSV (text/csv), not {media_type!r}."
        )
    if not rows:
        raise BulkFileRejected("The file has no rows.")
    return rows


def _too_many(max_rows: int) -> BulkFileRejected:
    return BulkFileRejected(f"At most {max_rows} rows per call; split the file.")


def _json_lines_rows(text: str, max_rows: int) -> list[BulkRow]:
    rows: list[BulkRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(rows) == max_rows:
            raise _too_many(max_rows)
        try:
            value = json.loads(line, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            rows.append(BulkRow(line=number, error="This line is not valid JSON."))
            continue
        if not isinstance(value, dict):
            rows.append(BulkRow(line=number, error="Each line must be a JSON object."))
            continue
        rows.append(BulkRow(line=number, data=value))
    return rows


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _csv_rows(text: str, max_rows: int) -> list[BulkRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="\0extra")
    if not reader.fieldnames:
        raise BulkFileRejected("The CSV file has no header row.")
    names = [name.strip() for name in reader.fieldnames]
    if len(set(names)) != len(names):
        raise BulkFileRejected("The CSV header names a column twice.")
    reader.fieldnames = names
    rows: list[BulkRow] = []
    try:
        for record in reader:
            if len(rows) == max_rows:
                raise _too_many(max_rows)
            line = reader.line_num
            if "\0extra" in record:
                rows.append(BulkRow(line=line, error="This row has more cells than the header."))
                continue
            rows.append(BulkRow(line=line, **_csv_record(record)))
    except csv.Error as exc:
        raise BulkFileRejected(f"The CSV file cannot be read: {exc}.") from None
    return rows


def _csv_record(record: dict[str, str | None]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, cell in record.items():
        value = (cell or "").strip()
        if name in CSV_TYPED_COLUMNS and not value:
            continue
        if name == "attributes":
            try:
                data[name] = json.loads(value, parse_constant=_refuse_constant)
            except (ValueError, RecursionError):
                return {"error": "attributes: write them as a JSON object."}
            continue
        data[name] = value
    return {"data": data}
