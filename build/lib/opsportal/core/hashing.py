"""The one canonical JSON form and its SHA-256, for everything the portal binds to a
hash: approval payloads (four-eyes binds an approval to the payload it saw) and
signed content (a sign-off binds to the record it attests).

Canonical JSON: keys sorted, no whitespace (`","` and `":"` separators), UTF-8 text
(no `\\u` escapes for non-ASCII), no NaN or infinities. `json_values` turns the
Python values records are made of into JSON values first: datetimes become UTC ISO
8601 with a `Z` (`2026-12-03T08:04:00.123456Z`), dates ISO 8601, Decimals their exact
string, tuples lists, mapping keys strings. Anyone can recompute a hash from the
canonical text with any language's SHA-256.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Mapping
from typing import Any


def json_values(value: Any) -> Any:
    """`value` with datetimes, dates, Decimals, tuples and non-string keys turned into
    JSON values (see the module docstring); other values are returned unchanged."""
    if isinstance(value, Mapping):
        return {str(k): json_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_values(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def canonical_json(value: Any) -> str:
    """The canonical JSON text of `value`, which must hold JSON values only.

    Raises TypeError (a value JSON cannot hold) or ValueError (NaN, infinity, or a
    circular reference)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def text_sha256(canonical: str) -> str:
    """SHA-256 (64 lowercase hex digits) of already canonical JSON text, UTF-8."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def sha256_hex(value: Any) -> str:
    """SHA-256 of the canonical JSON of `value`; raises as `canonical_json`."""
    return text_sha256(canonical_json(value))
