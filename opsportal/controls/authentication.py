"""Gate-token authentication for the DRF API.

Engines present `Authorization: Bearer <token>`. A gate token authenticates as a
`GateTokenPrincipal` that holds no permission at all, so every people endpoint
refuses it (403) while the gate endpoint (`controls.api.gate`, a plain Django view on
the hot path) checks the token itself in its one query. A token that is unknown or
revoked is refused with 401 here.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from opsportal.controls.models import GateToken
from opsportal.controls.selectors import gate_token_lookup
from opsportal.controls.services import hash_token

TOKEN_PREFIX = "opsg_"


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer opsg_…` header, else None."""
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
        return None
    return value


class GateTokenPrincipal:
    """Who a gate token is: a machine with no Django permissions."""

    is_authenticated = False
    is_anonymous = True
    is_active = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token: GateToken):
        self.token = token

    def __str__(self) -> str:
        return f"gate token {self.token.prefix}…"

    def get_username(self) -> str:
        return ""

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return False


class GateTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[GateTokenPrincipal, GateToken] | None:
        raw = bearer_token(request.META.get("HTTP_AUTHORIZATION", ""))
        if raw is None:
            return None
        token = gate_token_lookup(hash_token(raw))
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        return GateTokenPrincipal(token), token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="opsportal"'


class GateTokenScheme(OpenApiAuthenticationExtension):
    """Documents gate tokens in the OpenAPI schema."""

    target_class = "opsportal.controls.authentication.GateTokenAuthentication"
    name = "gateToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Engine gate token (opsg_…): reads GET /api/v1/environments/"
            "<slug>/gate and nothing else.",
        }
