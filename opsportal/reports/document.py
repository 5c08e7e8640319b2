"""What a report is made of: a title, the period or object it covers, and sections.

Each section is one function (in `sections/`) returning a `Section`: the template
that renders it and that template's context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    title: str
    template: str  # "reports/sections/<name>.html"
    context: dict[str, Any] = field(default_factory=dict)
    anchor: str = ""


@dataclass(frozen=True)
class Document:
    title: str
    subject: str  # the object or period covered: "INC-20261201-001", "2026-11-01 – 2026-11-30"
    sections: list[Section]
