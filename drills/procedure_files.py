"""Reading the shipped procedure library (`drills/procedures/*.toml`).

One TOML file per procedure:

    slug = "kill-switch-drill"            # stable identifier
    kind = "drill"                        # Procedure.Kind value
    title = "Kill-switch drill"
    summary = "..."
    source = "ops-drills-and-rollback-evidence.md, kill switch drill"
    severity = "SEV1"                     # incident playbooks only
    pre_checklist = ["...", "..."]        # optional
    pass_criteria = "..."                 # optional
    signoff_roles = ["drill_lead", "second_signer"]  # optional

    [[steps]]
    scenario = "Manual trigger"           # optional
    title = "..."
    instruction = "..."
    expected_result = "..."
    time_target_seconds = 10              # optional
    pass_rule = "..."                     # optional
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsportal.errors import ValidationFailed

_KINDS = {"incident_playbook", "drill", "checklist", "transition", "rollback"}
_STEP_KEYS = {
    "scenario",
    "title",
    "instruction",
    "expected_result",
    "time_target_seconds",
    "pass_rule",
}
_TOP_KEYS = {
    "slug",
    "kind",
    "title",
    "summary",
    "source",
    "severity",
    "pre_checklist",
    "pass_criteria",
    "signoff_roles",
    "steps",
}


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
        canonical = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def parse_procedure(data: dict[str, Any], *, origin: str) -> ProcedureSpec:
    """Validate one parsed file. Raises ValidationFailed naming the file and key."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ValidationFailed(f"{origin}: unknown keys {sorted(unknown)}", field=origin)
    for key in ("slug", "kind", "title"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValidationFailed(f"{origin}: '{key}' is required", field=key)
    if data["kind"] not in _KINDS:
        raise ValidationFailed(f"{origin}: kind must be one of {sorted(_KINDS)}", field="kind")
    steps = data.get("steps", [])
    if not steps:
        raise ValidationFailed(f"{origin}: a procedure needs at least one step", field="steps")
    for number, step in enumerate(steps, start=1):
        bad = set(step) - _STEP_KEYS
        if bad:
            raise ValidationFailed(f"{origin}: step {number} has unknown keys {sorted(bad)}")
        if not step.get("title") or not step.get("instruction"):
            raise ValidationFailed(f"{origin}: step {number} needs a title and an instruction")
        target = step.get("time_target_seconds")
        if target is not None and (not isinstance(target, int) or target <= 0):
            raise ValidationFailed(
                f"{origin}: step {number} time_target_seconds must be a positive integer"
            )
    return ProcedureSpec(
        slug=data["slug"],
        kind=data["kind"],
        title=data["title"],
        summary=data.get("summary", ""),
        source=data.get("source", ""),
        severity=data.get("severity", ""),
        pre_checklist=list(data.get("pre_checklist", [])),
        pass_criteria=data.get("pass_criteria", ""),
        signoff_roles=list(data.get("signoff_roles", [])),
        steps=[dict(step) for step in steps],
    )


def read_procedure_dir(directory: Path) -> list[ProcedureSpec]:
    """Parse every `*.toml` in `directory`, sorted by file name. Slugs must be unique."""
    specs: list[ProcedureSpec] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValidationFailed(f"{path.name}: {exc}") from exc
        specs.append(parse_procedure(data, origin=path.name))
    slugs = [s.slug for s in specs]
    duplicates = {s for s in slugs if slugs.count(s) > 1}
    if duplicates:
        raise ValidationFailed(f"duplicate procedure slugs: {sorted(duplicates)}")
    return specs
