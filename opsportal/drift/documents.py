"""Configuration documents: read (file path or HTTP URL), parse (TOML via the
standard library's tomllib, JSON), normalise, redact secrets, and diff (deepdiff).

Normalising makes equal configurations compare equal whatever their spelling: key
order does not matter (dicts), numbers compare by value (1, 1.0 and 1e0 are one
number: integral floats become ints). Redacting replaces every value under a key
that looks secret (`*secret*`, `*password*`, `*token*`, `*key*`, case-insensitive)
by `sha256:<hex>` of the value, so a secret is never stored or shown in clear, yet
a changed secret is still a difference.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

from opsportal.core.hashing import sha256_hex

MAX_DOCUMENT_BYTES = 1024 * 1024
READ_TIMEOUT_SECONDS = 10
SECRET_KEY_RE = re.compile(r"secret|password|token|key", re.IGNORECASE)
REDACTED_PREFIX = "sha256:"


class DocumentUnreadable(Exception):  # noqa: N818 - reads as "the document is unreadable"
    pass


def read_document(location: str, fmt: str) -> Any:
    """The parsed document at `location` (an http(s) URL or a file path)."""
    raw = _read_bytes(location)
    try:
        if fmt == "toml":
            return tomllib.loads(raw.decode("utf-8"))
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentUnreadable(f"not valid {fmt.upper()}: {exc}"[:300]) from None


def _read_bytes(location: str) -> bytes:
    if location.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(location, timeout=READ_TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked above
                body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DocumentUnreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
    else:
        try:
            with Path(location).open("rb") as fh:
                body = fh.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise DocumentUnreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise DocumentUnreadable("larger than 1 MB")
    return body


def normalise(value: Any, *, key: str = "") -> Any:
    """Key order and number spelling removed; secrets (by key) replaced by hashes.
    Dates and times (TOML) become ISO strings."""
    if key and SECRET_KEY_RE.search(key):
        return REDACTED_PREFIX + sha256_hex(_plain(value))
    if isinstance(value, dict):
        return {str(k): normalise(v, key=str(k)) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def document_sha256(document: Any) -> str:
    """The SHA-256 of a normalised document (canonical JSON)."""
    return sha256_hex(document)


def differences(baseline: Any, running: Any) -> list[dict[str, Any]]:
    """Field-level differences, one per path: {"path", "change", "old", "new"}.
    Both documents are normalised (secrets already hashes)."""
    diff = DeepDiff(baseline, running, verbose_level=2)
    changes: list[dict[str, Any]] = []
    kinds = {
        "values_changed": "changed",
        "type_changes": "type changed",
        "dictionary_item_added": "added",
        "dictionary_item_removed": "removed",
        "iterable_item_added": "added",
        "iterable_item_removed": "removed",
    }
    for kind, label in kinds.items():
        items = diff.get(kind, {})
        for path, detail in sorted(items.items()) if isinstance(items, dict) else []:
            if kind in ("values_changed", "type_changes"):
                old, new = detail.get("old_value"), detail.get("new_value")
            elif label == "added":
                old, new = None, detail
            else:
                old, new = detail, None
            changes.append(
                {"path": _path(path), "change": label, "old": _shown(old), "new": _shown(new)}
            )
    return changes


def _path(deepdiff_path: str) -> str:
    """root['risk']['max_position'] → risk.max_position; root['a'][0] → a[0]."""
    path = deepdiff_path.removeprefix("root")
    path = re.sub(r"\['([^']*)'\]", r".\1", path)
    return path.lstrip(".") or "(document)"


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "…"
