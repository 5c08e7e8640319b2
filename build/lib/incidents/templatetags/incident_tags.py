"""Small display helpers for incident templates: `{% load incident_tags %}`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from incidents.severity import SEVERITIES
from incidents.status_templates import format_duration

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """'1 h 05 min' for a timedelta; '-' for None."""
    return format_duration(value)


@register.simple_tag
def severity_badge(code: str) -> SafeString:
    """<span class="badge sev-SEV1">SEV1 · P0</span>"""
    sev = SEVERITIES.get(code)
    alias = f" · {sev.alias}" if sev else ""
    return format_html(
        '<span class="badge sev-{}" title="{}">{}{}</span>',
        code,
        sev.label if sev else code,
        code,
        alias,
    )


@register.simple_tag
def status_badge(incident: Any) -> SafeString:
    if incident.status in ("resolved", "closed"):
        css = "ok"
    elif incident.status == "declined":
        css = ""
    else:
        css = "warn"
    return format_html('<span class="badge {}">{}</span>', css, incident.get_status_display())


@register.filter
def seconds(value: int | None) -> str:
    """A whole number of seconds for people: '5 min', '1 h', '24 h', '90 s'."""
    if value is None:
        return "—"
    if value % 3600 == 0:
        return f"{value // 3600} h"
    if value % 60 == 0:
        return f"{value // 60} min"
    return f"{value} s"
