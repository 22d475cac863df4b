"""Inference ids: UUIDv7 (RFC 9562), sortable by the time they were issued.

The first 48 bits are the Unix time in milliseconds, so ids sort by creation time (an index
on the id is an index on time, and a page of the log is a range of ids); 74 random bits
make two replicas issuing ids in the same millisecond collide with negligible probability.
Python 3.11 has no `uuid.uuid7`, so it is built here; a monotonic counter keeps the ids
one process issues within one millisecond in order.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = [0, 0]  # [milliseconds, counter] of the last id issued by this process
_COUNTER_BITS = 12


def uuid7() -> str:
    """A new UUIDv7 as its canonical 36-character string (what `str(uuid.UUID(...))` gives,
    formatted here: building a `uuid.UUID` to print it cost more than the rest of the id)."""
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last[0]:
            millis = _last[0]
            counter = _last[1] + 1
            if counter >= 1 << _COUNTER_BITS:  # 4096 ids in one millisecond: borrow the next
                millis, counter = millis + 1, 0
        else:
            counter = 0
        _last[0], _last[1] = millis, counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= counter << 64  # rand_a: the in-millisecond counter
    value |= 0b10 << 62  # variant RFC 9562
    value |= rand
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def uuid7_millis(value: str) -> int:
    """The Unix time in milliseconds a UUIDv7 was issued at."""
    return uuid.UUID(value).int >> 80
