"""Maximum lengths of free text people type, and the one check services apply.

Every free-text input has a limit, enforced three times with the same number: the
form (`max_length`, so the browser's `maxlength` stops typing and a paste over it is
a form error), the API serializer (`max_length`, a 400 naming the field) and the
service (`text_within`, the backstop for every other path: admin, shell, commands).
`tests/test_text_limits.py` walks every form and input serializer and fails on a
text field without a limit.

Limits, in characters (Python `len`), chosen so a real entry always fits and a
page stays readable:

- NOTE_MAX 10,000: incident timeline notes, commands, evidence descriptions; drill
  step observations and run notes.
- SUMMARY_MAX 10,000: the incident summary.
- STATUS_FIELD_MAX 4,000: each field of a status update (impact, progress, next
  steps, root cause, follow-up actions), so a rendered update stays readable.
- REASON_MAX 4,000: reasons (approval requests, rejections, cancellations,
  severity changes, transition notes, aborts, skipped steps, kills).
- COMMENT_MAX 2,000: comments on approvals and sign-offs, checklist tick notes.
- PASSWORD_MAX 4,096: step-up passwords (bounds the hashing work one request asks).
"""

from __future__ import annotations

from opsportal.core.errors import ValidationFailed

NOTE_MAX = 10_000
SUMMARY_MAX = 10_000
STATUS_FIELD_MAX = 4_000
REASON_MAX = 4_000
COMMENT_MAX = 2_000
PASSWORD_MAX = 4_096


def text_within(value: str | None, *, limit: int, field: str, label: str) -> str:
    """`value` unchanged if it has at most `limit` characters (None reads as "").

    Raises ValidationFailed (code "too_long", `field`) with a message that names
    the field, its length and the limit: "The note is 12,345 characters long; the
    limit is 10,000. Shorten it, or link the rest as evidence."
    """
    text = value or ""
    if len(text) > limit:
        raise ValidationFailed(
            f"{label} is {len(text):,} characters long; the limit is {limit:,}. "
            "Shorten it, or link the rest as evidence.",
            code="too_long",
            field=field,
        )
    return text


def reason_given(value: str | None, *, missing: str, field: str = "reason") -> str:
    """`value` stripped, required and within REASON_MAX: ValidationFailed (code
    "required", `field`) with the message `missing` when it is empty, or as
    `text_within` when it is too long."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(missing, code="required", field=field)
    return text_within(text, limit=REASON_MAX, field=field, label="The reason")
