"""OpenAPI additions drf-spectacular cannot infer.

- The gate (`GET /api/v1/environments/{slug}/gate`) is a plain Django view because it
  is the hottest path in the system (no DRF request wrapping, one prepared query);
  drf-spectacular cannot see it, so `add_gate_path` describes it.
- Refusals: every people endpoint answers domain and framework errors with one shape,
  `{"error": {"code", "message", "field"}}` (opsportal.core.errors);
  `add_error_responses` documents, for each operation, the statuses it can answer
  with that body (the `Error` component). tests/test_schemathesis.py holds the
  schema to what the server does.
"""

from __future__ import annotations

from typing import Any

_DECISION = {
    "type": "object",
    "required": ["decision", "reason_code"],
    "properties": {
        "decision": {"type": "string", "enum": ["ALLOW", "NEUTRAL", "HALT"]},
        "reason_code": {"type": "string", "example": "HALT_KILL_SWITCH"},
        "mode": {"type": "string", "enum": ["DRY_RUN", "LIVE"], "nullable": True},
        "kill_switch": {
            "type": "string",
            "enum": ["ACTIVE", "KILLED", "RECOVERING"],
            "nullable": True,
        },
        "version": {"type": "integer", "nullable": True},
        "as_of": {"type": "string", "format": "date-time"},
        "valid_until": {
            "type": "string",
            "format": "date-time",
            "description": "Treat the answer as HALT after this time (the lease).",
        },
    },
}


_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "self_approval"},
                "message": {"type": "string", "description": "A sentence for a person."},
                "field": {"type": "string", "description": "The input field at fault."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "Every invalid field and its messages (400 only).",
                },
            },
        }
    },
}
ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_ERROR_DESCRIPTIONS = {
    "400": "The input is invalid: `field` names the first field at fault.",
    "403": "Not signed in, or the caller may not do this (permission, role, four-eyes "
    "rule, step-up password).",
    "404": "No such object (or it is not visible to the caller), or no such page.",
    "409": "The action does not fit the current state (illegal transition, cooldown, "
    "stale payload, failed precondition).",
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer. Every operation: 403 (not signed
    in, or no permission; session and token auth both answer 403). With path
    parameters: 404 (also the JSON 404 of the /api/v1/ catch-all for paths the route
    does not match). Query parameters: 400 (invalid filter) and 404 (a page that does
    not exist). Writes: 400, 404 (a named object that does not exist) and 409."""
    params = operation.get("parameters", [])
    statuses = {"403"}
    if "{" in path:
        statuses.add("404")
    if any(p.get("in") == "query" for p in params):
        statuses |= {"400", "404"}
    if method in _WRITE_METHODS:
        statuses |= {"400", "404", "409"}
    return sorted(statuses)


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry: the `Error` component, and the
    error responses of every /api/v1/ operation (see `_error_statuses`)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if operation.get("operationId") == "gate_read":
                continue  # the gate documents its own answers (add_gate_path)
            responses = operation.setdefault("responses", {})
            for code in _error_statuses(path, method, operation):
                responses.setdefault(
                    code, {"description": _ERROR_DESCRIPTIONS[code], "content": ERROR_REF}
                )
    return result


def add_gate_path(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the gate and its schema."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["GateDecision"] = _DECISION
    components.setdefault("securitySchemes", {})["gateToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "Engine token from `python manage.py issue_gate_token`.",
    }
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/GateDecision"}}}
    halt = "HALT. Engines treat any non-200 answer as HALT."
    result.setdefault("paths", {})["/api/v1/environments/{slug}/gate"] = {
        "get": {
            "operationId": "gate_read",
            "summary": "The trading gate: ALLOW, NEUTRAL or HALT for one environment",
            "description": (
                "Evaluation order: kill switch not ACTIVE → HALT; clock drift breached "
                "→ NEUTRAL; otherwise ALLOW (`mode` says whether orders are real). "
                "Fails closed: any answer but 200 means HALT. `Cache-Control: no-store`."
            ),
            "tags": ["gate"],
            "security": [{"gateToken": []}],
            "parameters": [
                {
                    "name": "slug",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
                }
            ],
            "responses": {
                "200": {"description": "The decision.", "content": ref},
                "401": {"description": f"Missing or revoked token: {halt}", "content": ref},
                "404": {
                    "description": f"Unknown environment: {halt} (A slug the route does "
                    "not match answers the JSON `Error` body instead.)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/GateDecision"},
                                    {"$ref": "#/components/schemas/Error"},
                                ]
                            }
                        }
                    },
                },
                "503": {"description": f"State unreadable: {halt}", "content": ref},
            },
        }
    }
    return result
