"""The real PostgreSQL the inference log tests write to, one fresh schema per test.

`SQUAD_TEST_POSTGRES_URL` (a SQLAlchemy URL) wins; otherwise the standard `PG*` variables,
defaulting to `postgres@127.0.0.1:5432/test` (trust auth), where this project's machines
run one. Unreachable: the test is skipped with how to start one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

HOW_TO_START = (
    "PostgreSQL unreachable at {url}: start one (e.g. `apt-get install postgresql && "
    "service postgresql start`, or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust "
    "-e POSTGRES_DB=test postgres`) or point SQUAD_TEST_POSTGRES_URL / PGHOST, PGPORT, "
    "PGUSER, PGDATABASE at one"
)


def postgres_base_url() -> str:
    """The server's URL (no schema chosen)."""
    given = os.environ.get("SQUAD_TEST_POSTGRES_URL")
    if given:
        return given.replace("postgresql://", "postgresql+psycopg://", 1)
    user = os.environ.get("PGUSER", "postgres")
    password = os.environ.get("PGPASSWORD")
    auth = quote(user) + (f":{quote(password)}" if password else "")
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    database = os.environ.get("PGDATABASE", "test")
    return f"postgresql+psycopg://{auth}@{host}:{port}/{database}"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose tables go into a new schema, dropped afterwards; skips when unreachable."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    base = postgres_base_url()
    engine = create_engine(base, connect_args={"connect_timeout": 3})
    schema = f"squad_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # any connection failure: no server to test against
        engine.dispose()
        pytest.skip(f"{HOW_TO_START.format(url=base)} ({type(error).__name__})")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
