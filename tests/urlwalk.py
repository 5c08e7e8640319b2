"""Walk the URL conf: every route of the portal with its view, and a way to fill a
route's path parameters (issue 14 item 2: the permission test and the fuzz test)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

# Routes left out, and why.
EXCLUDED_PREFIXES = (
    # Django's admin: its own permission model (ModelAdmin.has_*_permission), tested
    # in each app's test_admin.py.
    "admin/",
)


@dataclass(frozen=True)
class Route:
    route: str  # "incidents/<int:pk>/roles/"
    name: str | None
    callback: Any

    @property
    def view_class(self) -> Any:
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.route)

    def path(self, values: dict[str, Any]) -> str:
        """The route with each `<conv:name>` replaced by `values[name]`."""
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.route)


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and not route.startswith(EXCLUDED_PREFIXES):
                found.append(Route(route=route.lstrip("^"), name=p.name, callback=p.callback))

    walk(get_resolver().url_patterns, "")
    return found
