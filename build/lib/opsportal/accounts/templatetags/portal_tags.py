"""Template tags shared by every page.

`{% header_extras %}` renders each app's header fragment: apps list the inclusion
templates in HEADER_FRAGMENTS (approvals: the inbox count), rendered in the main
navigation. `{% header_status %}` renders STATUS_FRAGMENTS (controls: every
environment's gate decision and the kill button) beside it, in a block of its own
that stays on screen on a phone.
Each fragment receives the page's context and must render nothing for users without
the relevant permission.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import select_template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

HEADER_FRAGMENTS = ("approvals/_header.html",)
STATUS_FRAGMENTS = ("controls/_header.html",)
# `{% dashboard_panels %}`: each app's dashboard panel, same contract as the header.
DASHBOARD_FRAGMENTS = (
    "approvals/_dashboard_panel.html",
    "controls/_dashboard_panel.html",
    "drills/_dashboard_panel.html",
)


@register.simple_tag(takes_context=True)
def header_extras(context: Any) -> SafeString:
    return _render_fragments(context, HEADER_FRAGMENTS)


@register.simple_tag(takes_context=True)
def header_status(context: Any) -> SafeString:
    return _render_fragments(context, STATUS_FRAGMENTS)


@register.simple_tag(takes_context=True)
def dashboard_panels(context: Any) -> SafeString:
    return _render_fragments(context, DASHBOARD_FRAGMENTS)


def _render_fragments(context: Any, names: tuple[str, ...]) -> SafeString:
    parts = []
    for name in names:
        try:
            tpl = select_template([name])
        except template.TemplateDoesNotExist:
            continue
        parts.append(tpl.render(context.flatten(), context.get("request")))
    return mark_safe("".join(parts))  # noqa: S308 - rendered by Django templates (autoescaped)
