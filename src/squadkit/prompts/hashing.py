"""Content hashes: one format (`sha256:<hex>` of a file's bytes) for prompts, lock and evidence."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..files import read_bytes

HASH_PREFIX = "sha256:"


def content_hash(data: bytes) -> str:
    """`sha256:<hex>` of `data`."""
    return HASH_PREFIX + hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    """`sha256:<hex>` of the file's bytes (what the lock and evidence files record)."""
    return content_hash(read_bytes(path))
