"""A scratch database for a benchmark: PostgreSQL when DATABASE_URL names one, else SQLite."""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path


def scratch_database(
    prefix: str, root: Path, *, sqlite: bool = False
) -> tuple[str, Callable[[], None], str]:
    """DATABASE_URL for the bench, a function that drops it, and a label."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")) and not sqlite:
        import psycopg

        parts = urllib.parse.urlsplit(url)
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        host = parts.hostname or "localhost"
        return (
            urllib.parse.urlunsplit(parts._replace(path=f"/{name}")),
            drop,
            f"PostgreSQL ({host}, scratch database {name})",
        )
    return f"sqlite:///{root / 'bench.sqlite3'}", lambda: None, "SQLite (the embedded default)"
