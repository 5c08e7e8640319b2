"""Gate push: every change of an environment's gate state is announced with
PostgreSQL `NOTIFY`, from the transaction that makes it.

`pg_notify` inside a transaction is delivered when, and only when, that transaction
commits (PostgreSQL "NOTIFY": notifications of an aborted transaction are dropped,
and those of one transaction arrive together, in commit order across transactions).
So a stream never hears of a change that did not happen, and never misses one that
did while its listener was connected (the listener fails closed when it is not:
`opsportal.controls.stream`).

One place publishes: `gate_change_publish_in_transaction`, called by the controls
services right where they bump `Environment.version` (kill switch trigger,
recovery start and completion, going live, rollback). An app above controls whose
change alters the gate decision (the drift app turning ALLOW into NEUTRAL) calls it
the same way, inside its own transaction, after saving the row it changed; the
streams then re-decide with `selectors.decide`, which runs the registered NEUTRAL
checks.

Payload (JSON, well under NOTIFY's 8000-byte limit): `{"slug", "id", "mode",
"kill_switch", "version"}` — the columns `selectors.gate_read` returns, so a stream
decides from the notification alone, without a query per stream.

On SQLite (the `make run` default) there is no NOTIFY: nothing is published and the
streams poll (`stream.STREAM_POLL_SECONDS_PORTABLE`).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction

from opsportal.controls.models import Environment

GATE_CHANNEL = "opsportal_gate"


def gate_payload(environment: Environment) -> dict[str, Any]:
    """The gate state a notification carries (the shape of `GateRead.state`, plus
    the slug the streams are keyed by)."""
    return {
        "slug": environment.slug,
        "id": environment.pk,
        "mode": environment.mode,
        "kill_switch": environment.kill_switch,
        "version": environment.version,
    }


def gate_change_publish_in_transaction(*, environment: Environment) -> bool:
    """Announce `environment`'s new gate state to every stream server, when the
    surrounding transaction commits. Call inside that transaction, after saving
    the change (the services hold the row lock, so versions arrive in order).

    Returns True when a notification was queued (PostgreSQL), False on a database
    without NOTIFY (SQLite: streams poll). Raises RuntimeError outside a transaction
    (a notification sent outside one would announce a change before it commits,
    or one that never does). Database errors propagate and roll the change back:
    a change the streams are not told about must not happen silently.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("gate_change_publish_in_transaction needs a transaction.")
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_notify(%s, %s)",
            [GATE_CHANNEL, json.dumps(gate_payload(environment), separators=(",", ":"))],
        )
    return True
