"""The payload of an approval request: its canonical JSON and SHA-256, and the size
limit that keeps it readable for the people who review it."""

from __future__ import annotations

from typing import Any

from opsportal.core.errors import ValidationFailed
from opsportal.core.hashing import canonical_json, text_sha256

# A payload is what people review before approving: keep it readable.
MAX_PAYLOAD_CHARS = 64_000


def payload_canonical_json(payload: Any) -> str:
    """The canonical JSON text of `payload` (`opsportal.core.hashing`), the input of
    its SHA-256. ValidationFailed (field "payload") unless it is a JSON object of JSON
    values of at most MAX_PAYLOAD_CHARS characters."""
    if not isinstance(payload, dict):
        raise ValidationFailed("The payload must be a JSON object.", field="payload")
    try:
        text = canonical_json(payload)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"The payload must contain only JSON values ({exc}).", field="payload"
        ) from exc
    if len(text) > MAX_PAYLOAD_CHARS:
        raise ValidationFailed(
            f"The payload is too large (at most {MAX_PAYLOAD_CHARS} characters of JSON).",
            field="payload",
        )
    return text


def payload_sha256(payload: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `payload`; raises as
    `payload_canonical_json`."""
    return text_sha256(payload_canonical_json(payload))
