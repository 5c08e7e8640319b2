"""The portal's URLs plus `/bench/bare`: the baseline the gate is compared with."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import path

from opsportal.urls import urlpatterns as portal_urlpatterns

_BODY = {
    "decision": "ALLOW",
    "reason_code": "ALLOW_ALL_CHECKS_PASSED",
    "mode": "DRY_RUN",
    "kill_switch": "ACTIVE",
    "version": 1,
    "as_of": "2026-01-01T00:00:00.000Z",
    "valid_until": "2026-01-01T00:00:05.000Z",
}


@login_not_required
def bare(request: HttpRequest, slug: str) -> JsonResponse:
    """A bare Django JSON view: no database, no authentication, same-sized body."""
    return JsonResponse(_BODY)


# Resolved at the same depth as the gate: just before the portal's "api/v1/" include,
# so the URL resolver walks the same top-level patterns for both (the gate then tries
# two more patterns inside the include). Placing it first would flatter the baseline.
_api_index = next(i for i, p in enumerate(portal_urlpatterns) if str(p.pattern) == "api/v1/")
urlpatterns = [
    *portal_urlpatterns[:_api_index],
    path("api/v1/environments/<slug:slug>/bare", bare),
    *portal_urlpatterns[_api_index:],
]
