"""Reading the shipped procedure library (`opsportal/library/procedures/*.toml`).

One TOML file per procedure, named after its slug (`kill-switch-drill.toml`):

    slug = "kill-switch-drill"            # stable identifier, lowercase-with-dashes
    kind = "drill"                        # Procedure.Kind value
    title = "Kill-switch drill"
    summary = "..."
    source = "ops-drills-and-rollback-evidence.md, kill switch drill"
    severity = "SEV1"                     # incident playbooks only (required there)
    pre_checklist = ["...", "..."]        # optional: items ticked before a drill starts
    pass_criteria = "..."                 # required for drills
    signoff_roles = ["drill_lead", "risk_officer"]  # drills: drill_lead plus another role

    [[steps]]
    scenario = "Manual trigger"           # optional; a scenario's steps are consecutive
    title = "..."
    instruction = "..."
    expected_result = "..."
    time_target_seconds = 10              # optional, whole seconds > 0
    pass_rule = "..."                     # optional

Every problem raises `ValidationFailed` whose message names the file and the key
(e.g. `kill-switch-drill.toml: steps[3].time_target_seconds must be ...`) and whose
`field` is the key path. `docs/procedures.md` describes the format for authors.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from opsportal.core.errors import ValidationFailed

KINDS = ("incident_playbook", "drill", "checklist", "transition", "rollback")
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
# Who must sign a drill run off (the drills app resolves them): the run's drill lead,
# the run's observer, and any member of the risk_officer group.
SIGNOFF_ROLES = ("drill_lead", "observer", "risk_officer")

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Lengths of the model fields the values land in (drills/models/library.py).
_MAX_LEN = {"slug": 80, "title": 200, "source": 300, "scenario": 120}

_STEP_TEXT_KEYS = ("scenario", "title", "instruction", "expected_result", "pass_rule")
_STEP_KEYS = frozenset({*_STEP_TEXT_KEYS, "time_target_seconds"})
_TEXT_KEYS = ("slug", "kind", "title", "summary", "source", "severity", "pass_criteria")
TOP_KEYS = frozenset({*_TEXT_KEYS, "pre_checklist", "signoff_roles", "steps"})


@dataclass(frozen=True)
class ProcedureSpec:
    slug: str
    kind: str
    title: str
    summary: str = ""
    source: str = ""
    severity: str = ""
    pre_checklist: list[str] = field(default_factory=list)
    pass_criteria: str = ""
    signoff_roles: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def content_sha256(self) -> str:
        """SHA-256 of the canonical JSON of the whole spec: the version's identity."""
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """The spec as the plain data `parse_procedure` accepts (a round trip)."""
        return asdict(self)


def _fail(origin: str, key: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{origin}: {key} {problem}", code="invalid_procedure", field=key)


def _text(data: dict[str, Any], key: str, origin: str, *, label: str | None = None) -> str:
    label = label or key
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _fail(origin, label, "must be a string")
    value = value.strip()
    limit = _MAX_LEN.get(key)
    if limit is not None and len(value) > limit:
        raise _fail(origin, label, f"must be at most {limit} characters")
    return value


def _string_list(data: dict[str, Any], key: str, origin: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _fail(origin, key, "must be a list of strings")
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _fail(origin, f"{key}[{index}]", "must be a non-empty string")
        items.append(item.strip())
    return items


def _parse_step(step: Any, number: int, origin: str) -> dict[str, Any]:
    where = f"steps[{number}]"
    if not isinstance(step, dict):
        raise _fail(origin, where, "must be a table ([[steps]])")
    unknown = set(step) - _STEP_KEYS
    if unknown:
        raise _fail(origin, f"{where}.{sorted(unknown)[0]}", "is not a known step key")
    parsed: dict[str, Any] = {}
    for key in _STEP_TEXT_KEYS:
        value = _text(step, key, origin, label=f"{where}.{key}")
        if value:
            parsed[key] = value
    for key in ("title", "instruction"):
        if key not in parsed:
            raise _fail(origin, f"{where}.{key}", "is required")
    target = step.get("time_target_seconds")
    if target is not None:
        # bool is an int subclass: `true` is not a number of seconds.
        if isinstance(target, bool) or not isinstance(target, int) or target <= 0:
            raise _fail(origin, f"{where}.time_target_seconds", "must be a positive integer")
        parsed["time_target_seconds"] = target
    return parsed


def parse_procedure(data: dict[str, Any], *, origin: str) -> ProcedureSpec:
    """Validate one procedure's data (a parsed TOML file, or a spec being revised).

    `origin` names where the data came from (a file name) and starts every error
    message. Raises ValidationFailed naming the file and the key at fault; its
    `field` is the key path, e.g. `steps[2].title`.
    """
    if not isinstance(data, dict):
        raise ValidationFailed(f"{origin}: a procedure must be a table", field=origin)
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(origin, sorted(unknown)[0], "is not a known key")
    values = {key: _text(data, key, origin) for key in _TEXT_KEYS}
    for key in ("slug", "kind", "title"):
        if not values[key]:
            raise _fail(origin, key, "is required")
    if not SLUG_RE.match(values["slug"]) or len(values["slug"]) > _MAX_LEN["slug"]:
        raise _fail(origin, "slug", "must be lowercase letters, digits and single dashes")
    kind = values["kind"]
    if kind not in KINDS:
        raise _fail(origin, "kind", f"must be one of {', '.join(KINDS)}")

    severity = values["severity"]
    if kind == "incident_playbook":
        if severity not in SEVERITIES:
            raise _fail(origin, "severity", f"must be one of {', '.join(SEVERITIES)}")
    elif severity:
        raise _fail(origin, "severity", "is only for incident playbooks")

    pre_checklist = _string_list(data, "pre_checklist", origin)
    signoff_roles = _string_list(data, "signoff_roles", origin)
    for index, role in enumerate(signoff_roles):
        if role not in SIGNOFF_ROLES:
            raise _fail(
                origin, f"signoff_roles[{index}]", f"must be one of {', '.join(SIGNOFF_ROLES)}"
            )
    if len(set(signoff_roles)) != len(signoff_roles):
        raise _fail(origin, "signoff_roles", "must not repeat a role")
    if kind == "drill":
        # DESIGN "Drill": signed off by the drill lead and a second, different person.
        if "drill_lead" not in signoff_roles or len(signoff_roles) < 2:
            raise _fail(origin, "signoff_roles", "of a drill must be drill_lead and another role")
        if not values["pass_criteria"]:
            raise _fail(origin, "pass_criteria", "is required for a drill")

    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _fail(origin, "steps", "must list at least one step")
    steps = [_parse_step(step, number, origin) for number, step in enumerate(raw_steps, 1)]
    # Scenarios group consecutive steps; one split in two is almost always a typo
    # and would show up twice in the browser and the drill record.
    finished: set[str] = set()
    previous = ""
    for number, step in enumerate(steps, start=1):
        scenario = step.get("scenario", "")
        if scenario != previous:
            finished.add(previous)
            if scenario in finished and scenario:
                raise _fail(
                    origin, f"steps[{number}].scenario", f"'{scenario}' steps must be consecutive"
                )
            previous = scenario

    return ProcedureSpec(
        slug=values["slug"],
        kind=kind,
        title=values["title"],
        summary=values["summary"],
        source=values["source"],
        severity=severity,
        pre_checklist=pre_checklist,
        pass_criteria=values["pass_criteria"],
        signoff_roles=signoff_roles,
        steps=steps,
    )


def read_procedure_file(path: Path) -> ProcedureSpec:
    """Parse one file; its name must be `<slug>.toml`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"{path.name}: {exc}", code="invalid_procedure") from exc
    spec = parse_procedure(data, origin=path.name)
    if path.stem != spec.slug:
        raise _fail(path.name, "slug", f"must match the file name ('{path.stem}')")
    return spec


def read_procedure_dir(directory: Path) -> list[ProcedureSpec]:
    """Parse every `*.toml` in `directory`, sorted by file name (slugs are unique
    because file names are)."""
    if not directory.is_dir():
        raise ValidationFailed(f"{directory}: not a directory", code="invalid_procedure")
    return [read_procedure_file(path) for path in sorted(directory.glob("*.toml"))]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):  # never produced by parse_procedure; guard anyway
        raise TypeError("booleans are not part of the procedure format")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string literal is a valid TOML basic string: both escape \" \\ \n
        # \t \r \b \f and \uXXXX the same way; TOML also forbids a raw DEL.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "".join(f"  {_toml_value(item)},\n" for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def spec_to_toml(spec: ProcedureSpec) -> str:
    """The spec as a data file in the shipped format (what `read_procedure_file`
    reads back to an equal spec). Used to show and edit a version in the admin."""
    data = spec.as_dict()
    lines = []
    for key in (
        "slug",
        "kind",
        "title",
        "severity",
        "summary",
        "source",
        "pre_checklist",
        "pass_criteria",
        "signoff_roles",
    ):
        value = data[key]
        if value or key in ("slug", "kind", "title"):
            lines.append(f"{key} = {_toml_value(value)}")
    for step in data["steps"]:
        lines.append("\n[[steps]]")
        for key in (
            "scenario",
            "title",
            "instruction",
            "expected_result",
            "time_target_seconds",
            "pass_rule",
        ):
            if key in step:
                lines.append(f"{key} = {_toml_value(step[key])}")
    return "\n".join(lines) + "\n"
