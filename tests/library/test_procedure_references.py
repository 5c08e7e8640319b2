"""Every portal thing a shipped procedure names exists (issue 14, item 13).

An operator following a procedure at 3 a.m. must never be sent to a kill reason, a
command, a page or a portal check the portal does not have. Procedures name those
things in a small, explicit vocabulary (docs/procedures.md, "Naming portal things"),
which these tests extract from every text of every shipped file and check against
the code:

| written as | checked against |
| --- | --- |
| reason code `drill` | `ReasonCode` values (the kill form's choices) |
| gate reason `HALT_KILL_SWITCH` | the gate's reason codes (`controls.selectors.REASON_*`) |
| `manage.py load_procedures` | the registered management commands |
| `/environments/<slug>/` | the URL conf (placeholders are filled with a sample value) |
| precondition `kill_switch_active` | the registered live-transition preconditions |

Loose forms that would escape the check are refused: a quoted kill reason
(`reason 'exchange error'`), "reason code" not followed by a backticked code, and a
sentence that sends the reader "in the portal" / to "the portal's ..." without naming
the page or the precondition it means.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.urls import Resolver404, resolve

from opsportal.controls import selectors as gate
from opsportal.controls.models import ReasonCode
from opsportal.controls.preconditions import live_preconditions
from opsportal.library.procedure_files import ProcedureSpec, read_procedure_dir

REASON_CODE = re.compile(r"\breason code `([^`]*)`")
GATE_REASON = re.compile(r"\bgate reason `([^`]*)`")
COMMAND = re.compile(r"\bmanage\.py ([a-z_][a-z0-9_]*)")
PAGE = re.compile(r"`(/[^`\s]*)`")
PRECONDITION = re.compile(r"\bprecondition `([^`]*)`")

# A kill reason in quotes, or "reason code" without a backticked code after it.
LOOSE_REASON = re.compile(r"\breason(?: code)? ['\"‘“]|\breason code (?!`)", re.IGNORECASE)
# A claim about a portal feature; its sentence must name the page or precondition.
PORTAL_CLAIM = re.compile(
    r"\bin the portal\b|\bthe portal's\b|\bthe portal checks\b", re.IGNORECASE
)
SENTENCE = re.compile(r"[^.;]+")
# URL placeholders get a sample value ("1" suits int, slug and str converters):
# resolving checks the route, not the object.
PLACEHOLDER = re.compile(r"<[^>]+>")


def vague_sentences(text: str) -> list[str]:
    """The sentences of `text` that claim a portal feature without naming its page
    or precondition."""
    return [
        sentence.strip()
        for sentence in SENTENCE.findall(text)
        if PORTAL_CLAIM.search(sentence)
        and not (PAGE.search(sentence) or PRECONDITION.search(sentence))
    ]


def shipped_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every text of every shipped procedure file."""
    specs: list[ProcedureSpec] = read_procedure_dir(settings.OPSPORTAL_PROCEDURES_DIR)
    for spec in specs:
        for key in ("title", "summary", "pass_criteria"):
            yield f"{spec.slug}.toml: {key}", getattr(spec, key)
        for index, item in enumerate(spec.pre_checklist):
            yield f"{spec.slug}.toml: pre_checklist[{index}]", item
        for number, step in enumerate(spec.steps, start=1):
            for key, value in step.items():
                if isinstance(value, str):
                    yield f"{spec.slug}.toml: steps[{number}].{key}", value


def extracted(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return [(where, m.group(1)) for where, text in shipped_texts() for m in pattern.finditer(text)]


def page_exists(path: str) -> bool:
    try:
        resolve(PLACEHOLDER.sub("1", path))
    except Resolver404:
        return False
    return True


def test_every_kill_reason_a_procedure_names_is_a_reason_code():
    named = extracted(REASON_CODE)
    unknown = [(where, code) for where, code in named if code not in ReasonCode.values]
    assert (len(named) > 0, unknown) == (True, [])


def test_every_gate_reason_a_procedure_names_is_one_the_gate_answers():
    known = {value for name, value in vars(gate).items() if name.startswith("REASON_")}
    named = extracted(GATE_REASON)
    unknown = [(where, code) for where, code in named if code not in known]
    assert (len(named) > 0, unknown) == (True, [])


def test_every_command_a_procedure_names_is_a_management_command():
    commands = get_commands()
    named = extracted(COMMAND)
    unknown = [(where, name) for where, name in named if name not in commands]
    assert (len(named) > 0, unknown) == (True, [])


@pytest.mark.django_db
def test_every_page_a_procedure_names_is_in_the_url_conf():
    named = extracted(PAGE)
    unknown = [(where, path) for where, path in named if not page_exists(path)]
    assert (len(named) > 0, unknown) == (True, [])


def test_every_precondition_a_procedure_names_is_checked_by_the_portal():
    known = {p.code for p in live_preconditions()}
    named = extracted(PRECONDITION)
    unknown = [(where, code) for where, code in named if code not in known]
    assert (len(named) > 0, unknown) == (True, [])


def test_procedures_write_kill_reasons_as_reason_codes():
    loose = [(where, text) for where, text in shipped_texts() if LOOSE_REASON.search(text)]
    assert loose == []


def test_procedures_name_the_page_or_check_behind_every_portal_feature():
    vague = [(where, s) for where, text in shipped_texts() for s in vague_sentences(text)]
    assert vague == []


def test_the_vocabulary_refuses_what_the_library_shipped_before():
    # Texts the library shipped before issue 14: each must be caught by one rule.
    shipped_before = [
        "press Kill for the environment with reason 'exchange error' and wait",
        "Press Kill for the environment, reason 'verification'.",
        "Gate HALT with reason code kill switch.",
        "Check the portal's clock-drift reading for this environment's exchange.",
        "the portal checks some of them itself (clock drift healthy).",
    ]
    caught = [bool(LOOSE_REASON.search(t) or vague_sentences(t)) for t in shipped_before]
    unknown = [code for code in ("exchange_error", "verification") if code in ReasonCode.values]
    assert (caught, unknown) == ([True] * len(shipped_before), [])
