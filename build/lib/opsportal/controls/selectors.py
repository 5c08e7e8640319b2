"""Reads for trading controls, above all the gate decision engines ask before each
order (DESIGN "Gate").

Evaluation order (live-trading runbook 4.1, short-circuit):
1. kill switch not ACTIVE → HALT (`HALT_KILL_SWITCH`)
2. a registered NEUTRAL check fires (clock drift breached, once the drift issue
   registers it with `register_gate_neutral_check`) → NEUTRAL (its reason code)
3. otherwise ALLOW; `mode` tells the engine whether orders are real.

The decision is computed from the committed environment row on every read: no cache,
so a trigger is visible to the very next read.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.models import Prefetch
from django.dispatch import receiver
from django.utils import timezone
from psycopg import pq

from opsportal.approvals.models import ApprovalRequest
from opsportal.controls.models import Environment, GateToken, KillSwitchEvent, ModeChange
from opsportal.core.errors import NotFound
from opsportal.library.models import Checklist, ChecklistItem

logger = logging.getLogger(__name__)

ALLOW, NEUTRAL, HALT = "ALLOW", "NEUTRAL", "HALT"
REASON_ALLOW = "ALLOW_ALL_CHECKS_PASSED"
REASON_KILL_SWITCH = "HALT_KILL_SWITCH"
REASON_UNKNOWN_ENVIRONMENT = "HALT_UNKNOWN_ENVIRONMENT"
REASON_STATE_UNAVAILABLE = "HALT_STATE_UNAVAILABLE"


@dataclass(frozen=True)
class GateDecision:
    decision: str  # ALLOW | NEUTRAL | HALT
    reason_code: str
    mode: str | None
    kill_switch: str | None
    version: int | None
    as_of: dt.datetime
    valid_until: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason_code": self.reason_code,
            "mode": self.mode,
            "kill_switch": self.kill_switch,
            "version": self.version,
            "as_of": _iso(self.as_of),
            "valid_until": _iso(self.valid_until),
        }


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is not dt.UTC:  # timezone.now() is already UTC: skip the conversion
        value = value.astimezone(dt.UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"


# --- NEUTRAL checks: the clock-drift hook ---

# (reason_code, check(environment_state) -> True when breached). Empty until the
# clock-drift issue registers "NEUTRAL_CLOCK_DRIFT". A check runs on the hot path for
# every gate read: it must read only the state it is given (columns of the
# environment row) or an in-process value, never issue a query of its own.
_NEUTRAL_CHECKS: list[tuple[str, Callable[[Mapping[str, Any]], bool]]] = []


def register_gate_neutral_check(
    reason_code: str, breached: Callable[[Mapping[str, Any]], bool]
) -> None:
    """Register a check that turns an otherwise ALLOW decision into NEUTRAL.
    `breached(state)` gets the environment row as a dict (column name → value)."""
    if reason_code not in {code for code, _ in _NEUTRAL_CHECKS}:
        _NEUTRAL_CHECKS.append((reason_code, breached))


def clock_drift_breached(state: Mapping[str, Any]) -> str | None:
    """The clock-drift hook of the evaluation order: the reason code of the first
    registered NEUTRAL check that is breached, or None. Always None until the drift
    issue registers its check (DESIGN "Drift checks")."""
    for reason_code, breached in _NEUTRAL_CHECKS:
        if breached(state):
            return reason_code
    return None


def decide(state: Mapping[str, Any], *, now: dt.datetime | None = None) -> GateDecision:
    """The decision for one environment row (`state` holds at least mode,
    kill_switch and version)."""
    as_of = now or timezone.now()
    valid_until = as_of + dt.timedelta(seconds=settings.OPSPORTAL_GATE_LEASE_SECONDS)
    if state["kill_switch"] != Environment.KillSwitch.ACTIVE:
        decision, reason = HALT, REASON_KILL_SWITCH
    elif (neutral := clock_drift_breached(state)) is not None:
        decision, reason = NEUTRAL, neutral
    else:
        decision, reason = ALLOW, REASON_ALLOW
    return GateDecision(
        decision=decision,
        reason_code=reason,
        mode=state["mode"],
        kill_switch=state["kill_switch"],
        version=state["version"],
        as_of=as_of,
        valid_until=valid_until,
    )


def halt(reason_code: str) -> GateDecision:
    """The fail-closed answer when the state is unknown."""
    now = timezone.now()
    return GateDecision(
        decision=HALT,
        reason_code=reason_code,
        mode=None,
        kill_switch=None,
        version=None,
        as_of=now,
        valid_until=now + dt.timedelta(seconds=settings.OPSPORTAL_GATE_LEASE_SECONDS),
    )


def gate_decision(slug: str) -> GateDecision:
    """The gate decision for environment `slug`, from the committed row (one indexed
    read). Raises NotFound for an unknown slug; database errors propagate (the API
    turns them into 503 HALT)."""
    row = (
        Environment.objects.filter(slug=slug).values("id", "mode", "kill_switch", "version").first()
    )
    if row is None:
        raise NotFound(f"No environment '{slug}'.", code="unknown_environment")
    return decide(row)


def gate_decisions() -> list[tuple[Environment, GateDecision]]:
    """Every environment (slug order) with its gate decision, computed by `decide`
    from the same columns `gate_decision` reads: one query whatever the number of
    environments. For pages (the header's gate strip), not for engines."""
    envs = Environment.objects.only("id", "slug", "name", "mode", "kill_switch", "version")
    now = timezone.now()
    return [
        (
            env,
            decide(
                {
                    "id": env.pk,
                    "mode": env.mode,
                    "kill_switch": env.kill_switch,
                    "version": env.version,
                },
                now=now,
            ),
        )
        for env in envs
    ]


# The gate endpoint's single query: the environment row and, in the same round trip,
# whether the presented token may read it. Both lookups are on unique indexes. The
# last column says whether the token's `last_used_at` is due a touch (older than
# TOKEN_TOUCH_SECONDS, or never set); how "older than" is spelt depends on the branch.
TOKEN_TOUCH_SECONDS = 60
_GATE_SQL_TEMPLATE = """
SELECT e.id, e.mode, e.kill_switch, e.version, t.id,
       (t.last_used_at IS NULL OR t.last_used_at < {touch_cutoff})
FROM controls_environment e
LEFT JOIN controls_gatetoken t
  ON t.token_sha256 = %s AND t.revoked_at IS NULL
 AND (t.environment_id IS NULL OR t.environment_id = e.id)
WHERE e.slug = %s
"""
# PostgreSQL, prepared once per connection: the cutoff from the database's clock.
_GATE_SQL = _GATE_SQL_TEMPLATE.format(
    touch_cutoff=f"now() - interval '{TOKEN_TOUCH_SECONDS} seconds'"
)
# Portable (SQLite; PostgreSQL without prepared statements): the cutoff is a parameter
# from the portal's clock, the clock `token_touch` writes `last_used_at` with.
_GATE_SQL_PORTABLE = _GATE_SQL_TEMPLATE.format(touch_cutoff="%s")


@dataclass(frozen=True)
class GateRead:
    state: dict[str, Any] | None  # None: no such environment
    token_id: int | None  # None: token missing, revoked, or not for this environment
    # True when the token's last_used_at is older than a minute (or never set): the
    # caller records the use then, so the hot path writes at most once a minute.
    token_touch_due: bool = False


_GATE_STATEMENT = b"opsportal_gate_v1"
_COMMAND_OK, _TUPLES_OK = pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK
_GATE_SQL_NUMBERED = _GATE_SQL.replace("%s", "$1", 1).replace("%s", "$2", 1).encode()


def _gate_row_libpq(conn: Any, token_sha256: str, slug: str) -> tuple | None:
    """The gate query straight through libpq (psycopg's `pgconn`), prepared once per
    connection. The hottest path in the system: psycopg's Python-level cursor
    machinery costs about as much CPU as the query itself (bench/gate.py,
    docs/BENCHMARKS.md), and this skips it. libpq releases the GIL while it waits.
    The query is still logged like Django's when query logging is on (tests, DEBUG).
    Raises django.db.OperationalError when the database answers with an error."""
    if conn.connection is None:  # ensure_connection() costs a few µs even when connected
        conn.ensure_connection()
    raw = conn.connection
    pgconn = raw.pgconn
    logged = conn.queries_logged
    # wrap_database_errors: psycopg's exceptions become Django's (DatabaseError...).
    with conn.wrap_database_errors:
        if not getattr(raw, "_opsportal_gate_prepared", False):
            result = pgconn.prepare(_GATE_STATEMENT, _GATE_SQL_NUMBERED)
            if result.status != _COMMAND_OK:
                raise OperationalError(_pq_error(result, pgconn))
            raw._opsportal_gate_prepared = True
        started = time.monotonic() if logged else 0.0
        result = pgconn.exec_prepared(_GATE_STATEMENT, [token_sha256.encode(), slug.encode()])
        if result.status != _TUPLES_OK:
            raise OperationalError(_pq_error(result, pgconn))
    if logged:
        elapsed = f"{time.monotonic() - started:.3f}"
        conn.queries_log.append({"sql": f"EXECUTE opsportal_gate_v1 {_GATE_SQL}", "time": elapsed})
    if result.ntuples == 0:
        return None
    value = result.get_value
    token_id = value(0, 4)
    return (
        int(value(0, 0)),
        value(0, 1).decode(),
        value(0, 2).decode(),
        int(value(0, 3)),
        int(token_id) if token_id is not None else None,
        value(0, 5) == b"t",
    )


def _pq_error(result: Any, pgconn: Any) -> str:
    message = result.error_message or pgconn.error_message or b"gate query failed"
    return message.decode(errors="replace").strip()


def _gate_row_portable(conn: Any, token_sha256: str, slug: str) -> tuple | None:
    """The same query through a Django cursor, in SQL every backend runs: SQLite (the
    `make run` default), or PostgreSQL with `OPSPORTAL_GATE_PREPARED = False` behind a
    transaction-pooling PgBouncer older than 1.21, which breaks prepared statements.
    The touch cutoff is adapted as the ORM adapts a DateTimeField (SQLite stores text
    in UTC), so the comparison is the one `last_used_at__lt=cutoff` would make."""
    cutoff = timezone.now() - dt.timedelta(seconds=TOKEN_TOUCH_SECONDS)
    with conn.cursor() as cursor:
        cursor.execute(
            _GATE_SQL_PORTABLE,
            [conn.ops.adapt_datetimefield_value(cutoff), token_sha256, slug],
        )
        return cursor.fetchone()


GateRowReader = Callable[[Any, str, str], tuple | None]

# The branch each database vendor takes, chosen on its first gate read rather than
# on every read (the gate is the hottest path). Forgotten when a test changes
# OPSPORTAL_GATE_PREPARED (`_forget_gate_readers`).
_GATE_READERS: dict[str, GateRowReader] = {}


def _gate_reader(vendor: str) -> GateRowReader:
    """The gate query for a database vendor: straight through libpq on PostgreSQL
    (unless OPSPORTAL_GATE_PREPARED is off), the portable cursor query otherwise."""
    reader = _GATE_READERS.get(vendor)
    if reader is None:
        prepared = vendor == "postgresql" and getattr(settings, "OPSPORTAL_GATE_PREPARED", True)
        reader = _gate_row_libpq if prepared else _gate_row_portable
        _GATE_READERS[vendor] = reader
        logger.info("gate.reader_chosen", extra={"vendor": vendor, "reader": reader.__name__})
    return reader


@receiver(setting_changed)
def _forget_gate_readers(*, setting: str, **kwargs: Any) -> None:
    if setting == "OPSPORTAL_GATE_PREPARED":
        _GATE_READERS.clear()


def gate_read(slug: str, token_sha256: str, *, conn: Any = None) -> GateRead:
    """One query: the environment's gate state and the token's right to read it.
    For an unknown slug, whether the token exists at all is not revealed.
    `conn`: the database wrapper to use (default: the default connection).
    Raises django.db.DatabaseError when the database cannot answer."""
    conn = conn or connections[DEFAULT_DB_ALIAS]
    row = _gate_reader(conn.vendor)(conn, token_sha256, slug)
    if row is None:
        return GateRead(state=None, token_id=None)
    env_id, mode, kill_switch, version, token_id, touch_due = row
    return GateRead(
        state={"id": env_id, "mode": mode, "kill_switch": kill_switch, "version": version},
        token_id=token_id,
        token_touch_due=bool(touch_due),
    )


def gate_token_lookup(token_sha256: str) -> GateToken | None:
    """The active token with this hash, or None."""
    return (
        GateToken.objects.filter(token_sha256=token_sha256, revoked_at__isnull=True)
        .select_related("environment")
        .first()
    )


# --- pages and the people API ---


def environments_for(user: Any) -> list[Environment]:
    """Environments the user may see (all, with controls.view_environment)."""
    if not user.has_perm("controls.view_environment"):
        return []
    return list(Environment.objects.all())


def get_environment_for(user: Any, slug: str) -> Environment:
    """The environment `slug` if `user` may see it; NotFound otherwise (also when
    the user lacks the view permission, so existence is not revealed)."""
    env = Environment.objects.filter(slug=slug).first()
    if env is None or not user.has_perm("controls.view_environment"):
        raise NotFound(f"No environment '{slug}'.", code="unknown_environment")
    return env


@dataclass(frozen=True)
class HistoryEntry:
    occurred_at: dt.datetime
    category: str  # "kill_switch" | "mode"
    kind: str
    kind_label: str
    actor: str
    from_state: str
    to_state: str
    reason_code: str
    note: str
    incident_id: int | None
    approval_request_id: int | None
    is_drill: bool
    version: int
    # Who asked for a change another person approved (going live, resuming after a
    # kill): the approval request's requester; "" for a change one person made.
    requested_by: str = ""


def environment_history(environment: Environment, *, limit: int = 50) -> list[HistoryEntry]:
    """Kill-switch events and mode changes, newest first (three queries: the third
    names the requester of each change made through an approval request)."""
    events = KillSwitchEvent.objects.filter(environment=environment).select_related("actor")[:limit]
    changes = ModeChange.objects.filter(environment=environment).select_related("actor")[:limit]
    entries = [
        HistoryEntry(
            occurred_at=e.occurred_at,
            category="kill_switch",
            kind=e.kind,
            kind_label=e.get_kind_display(),
            actor=e.actor.get_username() if e.actor else "system",
            from_state=e.from_state,
            to_state=e.to_state,
            reason_code=e.reason_code,
            note=e.note,
            incident_id=e.incident_id,
            approval_request_id=e.approval_request_id,
            is_drill=e.is_drill,
            version=e.version,
        )
        for e in events
    ]
    entries += [
        HistoryEntry(
            occurred_at=c.occurred_at,
            category="mode",
            kind=c.kind,
            kind_label=c.get_kind_display(),
            actor=c.actor.get_username() if c.actor else "system",
            from_state=c.from_mode,
            to_state=c.to_mode,
            reason_code=c.kind,
            note=c.reason,
            incident_id=c.incident_id,
            approval_request_id=c.approval_request_id,
            is_drill=c.is_drill,
            version=c.version,
        )
        for c in changes
    ]
    request_ids = {h.approval_request_id for h in entries if h.approval_request_id}
    requesters = dict(
        ApprovalRequest.objects.filter(pk__in=request_ids).values_list("pk", "requester__username")
    )
    entries = [
        replace(h, requested_by=requesters.get(h.approval_request_id, ""))
        if h.approval_request_id
        else h
        for h in entries
    ]
    return sorted(chain(entries), key=lambda h: (h.occurred_at, h.version), reverse=True)[:limit]


def cooldown_remaining_seconds(environment: Environment) -> int:
    """Seconds until recovery may start (0 when it may, or when not KILLED)."""
    if environment.kill_switch != Environment.KillSwitch.KILLED or environment.killed_at is None:
        return 0
    left = environment.cooldown_seconds - (timezone.now() - environment.killed_at).total_seconds()
    return max(0, int(left) + (1 if left > int(left) else 0))


@dataclass(frozen=True)
class ModeChecklist:
    """A checklist a mode change started (rollback, live transition) with its items."""

    change: ModeChange
    checklist: Checklist
    items: list[ChecklistItem]

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.done_at is not None)


def mode_change_checklists(
    *, environment: Environment | None = None, incident_id: int | None = None, limit: int = 3
) -> list[ModeChecklist]:
    """The checklists of the `limit` newest mode changes of `environment` (or of
    those linked to incident `incident_id`), newest first, with their items in
    order. Three queries whatever the number of checklists and items."""
    changes_qs = ModeChange.objects.select_related("environment")
    if environment is not None:
        changes_qs = changes_qs.filter(environment=environment)
    if incident_id is not None:
        changes_qs = changes_qs.filter(incident_id=incident_id)
    changes = {str(c.pk): c for c in changes_qs.order_by("-occurred_at", "-pk")[:limit]}
    if not changes:
        return []
    checklists = (
        Checklist.objects.filter(
            target_type=ContentType.objects.get_for_model(ModeChange), target_id__in=changes
        )
        .select_related("procedure_version")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ChecklistItem.objects.select_related("step", "done_by").order_by(
                    "position"
                ),
            )
        )
    )
    found = [
        ModeChecklist(change=changes[c.target_id], checklist=c, items=list(c.items.all()))
        for c in checklists
    ]
    return sorted(found, key=lambda m: (m.change.occurred_at, m.change.pk), reverse=True)
