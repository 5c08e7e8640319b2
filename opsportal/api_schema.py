"""OpenAPI additions for endpoints that are not DRF views.

The gate (`GET /api/v1/environments/{slug}/gate`) is a plain Django view because it
is the hottest path in the system (no DRF request wrapping, one prepared query);
drf-spectacular cannot see it, so this post-processing hook describes it.
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
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "The decision.", "content": ref},
                "401": {"description": f"Missing or revoked token: {halt}", "content": ref},
                "404": {"description": f"Unknown environment: {halt}", "content": ref},
                "503": {"description": f"State unreadable: {halt}", "content": ref},
            },
        }
    }
    return result
