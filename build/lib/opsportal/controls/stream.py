"""The gate as server-sent events, pushed: `GET /api/v1/environments/<slug>/gate/stream`.

Why this module exists (issue 9): a stream that holds a server thread and polls the
database starves the pool that serves the kill switch, the polled gate and /health.
Here a stream is a coroutine on the stream server's event loop (uvicorn serving
`opsportal.asgi`, which routes stream requests to `asgi_gate_stream`, a bare ASGI
application, not a Django view: README "Running in production", docs/controls.md
"Gate stream: how it is served"):

- **Pushed.** Every gate-state change is published with `pg_notify` from its own
  transaction (`opsportal.controls.push`). One `GateListener` per server process
  holds one PostgreSQL connection in `LISTEN` and hands each notification's state to
  every open stream of that environment at once; each stream decides
  (`selectors.decide`) and sends. No query per stream per change.
- **Lease refresh.** Every half lease (`OPSPORTAL_GATE_LEASE_SECONDS / 2`) the
  listener reads, for the whole process at once, the streamed environments' rows and
  which of the streams' tokens are still valid (two indexed queries, in the event
  loop's default thread pool), and hands each stream the fresh decision: so
  `valid_until` never lapses while the stream is healthy, a missed notification is
  corrected, and a revoked token's stream ends (HALT_UNAUTHENTICATED) within a lease.
  A stream that hears nothing for a whole lease sends HALT and closes.
- **Fail closed.** If the listener loses its connection, every stream of the process
  sends HALT (HALT_STATE_UNAVAILABLE) and closes; engines reconnect, and the next
  stream starts a new listener (or is answered 503 HALT if it cannot).
- **Bounded.** At most OPSPORTAL_GATE_STREAM_MAX streams per server process and
  OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN per gate token; beyond, 429 with
  `Retry-After` (`StreamLimits`). The production topology runs one stream process,
  so the process limit is the global one.

Other servers:

- **SQLite** (`make run`) has no NOTIFY: the stream polls every
  STREAM_POLL_SECONDS_PORTABLE seconds instead (same events, same limits).
- **Under WSGI** (gunicorn gthread, runserver: the Django view `gate_stream`) a
  stream would hold a worker thread for its whole life. With
  OPSPORTAL_GATE_STREAM_URL set (the production topology, `make serve`), the WSGI
  server answers 307 to the stream server. Without it (`make run`, the test client)
  it serves the stream itself, polling in its thread: the embedded default needs no
  second server, and the limits still bound it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from opsportal.controls import selectors, services
from opsportal.controls.api import _gate_read, _gate_response
from opsportal.controls.authentication import bearer_token
from opsportal.controls.models import Environment, GateToken
from opsportal.controls.push import GATE_CHANNEL

logger = logging.getLogger(__name__)

# SSE `retry:` (ms): how long EventSource waits before reconnecting.
STREAM_RETRY_MS = 1000
# Seconds between reads where no NOTIFY exists (SQLite) or under WSGI.
STREAM_POLL_SECONDS_PORTABLE = 1.0
# The listener's connection shows up in pg_stat_activity under this name.
LISTENER_APPLICATION_NAME = "opsportal-gate-listener"
REASON_UNAUTHENTICATED = "HALT_UNAUTHENTICATED"


def _sse(decision: selectors.GateDecision) -> str:
    return f"event: gate\nid: {decision.version or 0}\ndata: {json.dumps(decision.as_dict())}\n\n"


# --- limits ---


class StreamLimits:
    """Open streams of this process, in total and per gate token. Thread-safe: the
    ASGI streams run on one event loop, the WSGI fallback's in worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._per_token: dict[int, int] = {}

    def acquire(self, token_id: int) -> Callable[[], None] | None:
        """A release function (idempotent) when a stream of `token_id` may open;
        None when a limit is reached."""
        with self._lock:
            per_token = self._per_token.get(token_id, 0)
            if (
                self._total >= settings.OPSPORTAL_GATE_STREAM_MAX
                or per_token >= settings.OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN
            ):
                return None
            self._total += 1
            self._per_token[token_id] = per_token + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._total -= 1
                left = self._per_token[token_id] - 1
                if left:
                    self._per_token[token_id] = left
                else:
                    del self._per_token[token_id]

        return release

    def open_streams(self) -> int:
        return self._total


LIMITS = StreamLimits()


def _too_many() -> HttpResponse:
    response = _gate_response(
        selectors.halt("HALT_TOO_MANY_STREAMS"),
        429,
        error={
            "code": "too_many_streams",
            "message": "Too many open gate streams; retry later or read the polled gate.",
        },
    )
    response["Retry-After"] = str(settings.OPSPORTAL_GATE_LEASE_SECONDS)
    return response


# --- the listener ---

# What a subscription's queue receives: a `Pushed` change, or this when the listener
# lost its connection.
LISTENER_LOST = object()
# ... or this, when its token was revoked (or its environment deleted).
TOKEN_REVOKED = object()


@dataclass(frozen=True)
class Pushed:
    state: dict[str, Any]  # the notification's payload (push.gate_payload)
    decision: selectors.GateDecision
    text: str  # the SSE event, encoded once for every stream


class GateListener:
    """One PostgreSQL connection in LISTEN per server process (per event loop),
    fanning every notification out to the open streams of its environment."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = {}
        self._tokens: dict[asyncio.Queue[Any], int] = {}  # each stream's gate token id
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def subscribe(self, slug: str, token_id: int) -> asyncio.Queue[Any]:
        """A queue that receives a `Pushed` for every published state of `slug` and
        every half lease (the refresh), TOKEN_REVOKED when `token_id` no longer reads
        it, or LISTENER_LOST. Starts the listener if needed. Raises
        psycopg.OperationalError when the database cannot be reached (the caller
        answers 503 HALT)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new loop (tests, reloads): start afresh there
            self._loop, self._lock, self._task, self._conn = loop, asyncio.Lock(), None, None
            self._subscribers, self._tokens = {}, {}
        assert self._lock is not None  # noqa: S101 - set with the loop just above
        async with self._lock:
            if not self.running:
                await self._start()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._subscribers.setdefault(slug, set()).add(queue)
        self._tokens[queue] = token_id
        return queue

    def unsubscribe(self, slug: str, queue: asyncio.Queue[Any]) -> None:
        queues = self._subscribers.get(slug)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[slug]
        self._tokens.pop(queue, None)

    async def _start(self) -> None:
        conn = await psycopg.AsyncConnection.connect(**_listener_params(), autocommit=True)
        await conn.execute(f"LISTEN {GATE_CHANNEL}")
        self._conn = conn
        self._task = asyncio.get_running_loop().create_task(self._run(conn))
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())
        logger.info("gate.listener_started", extra={"pid": conn.info.backend_pid})

    async def _run(self, conn: psycopg.AsyncConnection[Any]) -> None:
        error = "notifications ended"
        try:
            async for notify in conn.notifies():
                self._fan_out(notify.payload)
        except psycopg.Error as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            # Fail closed: every stream of this process sends HALT and closes.
            if self._refresher is not None:
                self._refresher.cancel()
            lost = [q for queues in self._subscribers.values() for q in queues]
            self._subscribers, self._tokens = {}, {}
            for queue in lost:
                queue.put_nowait(LISTENER_LOST)
            logger.error("gate.listener_lost", extra={"streams": len(lost), "error": error})
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def _refresh_loop(self) -> None:
        """Every half lease, one read for every stream of the process: the states of
        the environments streamed and which of the streams' tokens are still valid.
        Each stream gets the fresh decision (its lease refresh), or TOKEN_REVOKED; a
        database error sends every stream LISTENER_LOST (HALT, close)."""
        refresh = settings.OPSPORTAL_GATE_LEASE_SECONDS / 2
        while True:
            await asyncio.sleep(refresh)
            streams = {
                q: (slug, self._tokens.get(q)) for slug, qs in self._subscribers.items() for q in qs
            }
            if not streams:
                continue
            slugs = {slug for slug, _ in streams.values()}
            token_ids = {token for _, token in streams.values() if token is not None}
            try:
                states, valid = await _refresh_read_async(slugs, token_ids)
            except DatabaseError as exc:
                _log_unavailable(",".join(sorted(slugs)), exc)
                for queue in streams:
                    queue.put_nowait(LISTENER_LOST)
                continue
            pushed: dict[str, Pushed] = {}
            for slug, state in states.items():
                decision = selectors.decide(state)
                pushed[slug] = Pushed(state=state, decision=decision, text=_sse(decision))
            for queue, (slug, token) in streams.items():
                if queue not in self._tokens:  # closed meanwhile
                    continue
                if slug not in pushed or token not in valid:
                    queue.put_nowait(TOKEN_REVOKED)
                else:
                    queue.put_nowait(pushed[slug])

    def _fan_out(self, payload: str) -> None:
        try:
            state = json.loads(payload)
            slug = state["slug"]
        except (ValueError, KeyError, TypeError):
            logger.error("gate.notification_unreadable", extra={"payload": payload[:200]})
            return
        queues = self._subscribers.get(slug)
        if not queues:
            return
        # Decided and encoded once for every stream of the environment.
        decision = selectors.decide(state)
        pushed = Pushed(state=state, decision=decision, text=_sse(decision))
        for queue in queues:
            queue.put_nowait(pushed)


def _listener_params() -> dict[str, Any]:
    """psycopg connection arguments for the default database (its settings)."""
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    params: dict[str, Any] = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "application_name": LISTENER_APPLICATION_NAME,
    }
    options = db.get("OPTIONS", {})
    for key in ("connect_timeout", "sslmode", "sslrootcert", "sslcert", "sslkey"):
        if key in options:
            params[key] = options[key]
    return {k: v for k, v in params.items() if v is not None}


LISTENER = GateListener()


# --- the view ---


def _read(slug: str, digest: str) -> selectors.GateRead:
    """The gate's query from a thread of the event loop's pool (its own connection,
    reused; `_gate_read` reconnects once when a reused one broke)."""
    return _gate_read(slug, digest)


_read_async = sync_to_async(_read, thread_sensitive=False)


def _refresh_read(
    slugs: set[str], token_ids: set[int]
) -> tuple[dict[str, dict[str, Any]], set[int]]:
    """The lease refresh's read for a whole process: `{slug: gate state}` of the
    environments, and the ids among `token_ids` not revoked. Two indexed queries."""
    states = {
        row["slug"]: {
            "id": row["id"],
            "mode": row["mode"],
            "kill_switch": row["kill_switch"],
            "version": row["version"],
        }
        for row in Environment.objects.filter(slug__in=slugs).values(
            "slug", "id", "mode", "kill_switch", "version"
        )
    }
    valid = set(
        GateToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    return states, valid


_refresh_read_async = sync_to_async(_refresh_read, thread_sensitive=False)


@login_not_required
@require_GET
def gate_stream(request: HttpRequest, slug: str) -> HttpResponseBase:
    """`GET /api/v1/environments/<slug>/gate/stream` as a Django view: what a WSGI
    server (gunicorn, runserver) answers. With OPSPORTAL_GATE_STREAM_URL set (the
    production topology) a 307 to the stream server, which serves it pushed
    (`asgi_gate_stream`; the client repeats the same GET, Authorization included);
    otherwise (`make run`, the test client) the stream itself, polled from this
    worker thread (`_polled_stream`). Same answers as `asgi_gate_stream`."""
    stream_url = settings.OPSPORTAL_GATE_STREAM_URL
    if stream_url:
        redirect = HttpResponse(status=307)
        redirect["Location"] = stream_url.rstrip("/") + request.get_full_path()
        return redirect
    return _polled_stream(request, slug)


# --- the ASGI stream server ---

STREAM_PATH = re.compile(r"^/api/v1/environments/(?P<slug>[-a-zA-Z0-9_]+)/gate/stream$")
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # no proxy buffering of the stream
    (b"x-content-type-options", b"nosniff"),
]


async def asgi_gate_stream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The stream as a bare ASGI application (`opsportal.asgi` routes STREAM_PATH
    here): `GET /api/v1/environments/<slug>/gate/stream` with `Authorization: Bearer
    <gate token>`.

    Bare, not a Django view: Django's ASGI handler runs each request's synchronous
    middleware in a thread of its own, kept for the request's life, so every open
    stream would hold an (idle) thread. Here a stream is one coroutine; the only
    threads are the event loop's default pool, which runs the gate reads.

    Before the stream, as the gate's JSON HALT: 401 without a valid token for this
    environment, 404 for an unknown environment, 405 for another method, 503 when the
    state cannot be read (or the listener cannot connect), 429 with `Retry-After`
    beyond the stream limits. Then `retry: 1000` and an `event: gate` (`id:` the
    version, data: the gate read's JSON) at once, on every change (pushed; polled
    every STREAM_POLL_SECONDS_PORTABLE on SQLite) and every half lease; a final HALT
    event ends the stream when the token is revoked (HALT_UNAUTHENTICATED), the state
    becomes unreadable or the listener is lost (HALT_STATE_UNAVAILABLE). A stream
    lasts OPSPORTAL_GATE_STREAM_SECONDS; clients reconnect.
    """
    match = STREAM_PATH.match(scope["path"])
    assert match is not None  # noqa: S101 - the router matched it
    slug = match["slug"]
    if scope["method"] != "GET":
        refused = HttpResponse(status=405)
        refused["Allow"] = "GET"
        await _send_response(send, refused)
        return
    authorization = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
    opened = await _open_pushed(slug, authorization)
    if isinstance(opened, HttpResponse):
        await _send_response(send, opened)
        return
    events, close = opened
    try:
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        pump = asyncio.ensure_future(_pump(events, send))
        gone = asyncio.ensure_future(_disconnected(receive))
        await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
        for task in (pump, gone):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await pump
        if not gone.cancelled() and gone.done():
            return  # the client went away: nothing more to send
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        close()


async def _pump(events: AsyncIterator[str], send: Any) -> None:
    try:
        async for text in events:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
    finally:
        with contextlib.suppress(RuntimeError):  # already closed by its own return
            await events.aclose()  # type: ignore[attr-defined]  # an async generator


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_response(send: Any, response: HttpResponse) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
    headers.append((b"content-length", str(len(response.content)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})


async def _open_pushed(
    slug: str, authorization: str
) -> HttpResponse | tuple[AsyncIterator[str], Callable[[], None]]:
    """Authenticate, take a place and subscribe: the stream's events and the function
    that frees its place (idempotent), or the refusal to send instead."""
    raw = bearer_token(authorization)
    digest = services.hash_token(raw or "")
    try:
        read = await _read_async(slug, digest)
    except DatabaseError as exc:
        _log_unavailable(slug, exc)
        return _gate_response(selectors.halt(selectors.REASON_STATE_UNAVAILABLE), 503)
    refused = _refusal(read, raw)
    if refused is not None:
        return refused
    assert read.token_id is not None  # noqa: S101 - _refusal answered otherwise
    release = LIMITS.acquire(read.token_id)
    if release is None:
        return _too_many()
    queue: asyncio.Queue[Any] | None = None
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        try:
            queue = await LISTENER.subscribe(slug, read.token_id)
        except psycopg.Error as exc:
            release()
            logger.error("gate.listener_unavailable", extra={"error": repr(exc)[:500]})
            return _gate_response(selectors.halt(selectors.REASON_STATE_UNAVAILABLE), 503)
        # A change may have committed between the read and the subscription.
        try:
            read = await _read_async(slug, digest)
        except DatabaseError as exc:
            LISTENER.unsubscribe(slug, queue)
            release()
            _log_unavailable(slug, exc)
            return _gate_response(selectors.halt(selectors.REASON_STATE_UNAVAILABLE), 503)

    def close() -> None:
        if queue is not None:
            LISTENER.unsubscribe(slug, queue)
        release()

    return _pushed_events(slug, digest, read, queue, close), close


def _log_unavailable(slug: str, exc: Exception) -> None:
    logger.error(
        "gate.state_unavailable",
        extra={"environment": slug, "error": f"{type(exc).__name__}: {exc}"[:500]},
    )


def _refusal(read: selectors.GateRead, raw: str | None) -> HttpResponse | None:
    if read.state is None:
        return _gate_response(selectors.halt(selectors.REASON_UNKNOWN_ENVIRONMENT), 404)
    if raw is None or read.token_id is None:
        response = _gate_response(
            selectors.halt(REASON_UNAUTHENTICATED),
            401,
            error={"code": "unauthenticated", "message": "A valid gate token is required."},
        )
        response["WWW-Authenticate"] = 'Bearer realm="opsportal"'
        return response
    return None


def _stream_headers(response: StreamingHttpResponse) -> StreamingHttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # no proxy buffering of the stream
    return response


async def _pushed_events(
    slug: str,
    digest: str,
    read: selectors.GateRead,
    queue: asyncio.Queue[Any] | None,
    close: Callable[[], None],
) -> AsyncIterator[str]:
    """The events of one ASGI stream. `queue`: the listener's subscription (changes
    and lease refreshes arrive there), or None (no NOTIFY: poll)."""
    lease = float(settings.OPSPORTAL_GATE_LEASE_SECONDS)
    deadline = time.monotonic() + float(settings.OPSPORTAL_GATE_STREAM_SECONDS)
    state: dict[str, Any] = dict(read.state or {})
    try:
        yield f"retry: {STREAM_RETRY_MS}\n\n"
        yield _sse(selectors.decide(state))
        if queue is None:
            async for text in _polled_async_events(slug, digest, state, deadline):
                yield text
            return
        heard_at = time.monotonic()
        while True:
            now = time.monotonic()
            # Nothing heard for a whole lease (not even a refresh): fail closed.
            wake = min(heard_at + lease, deadline)
            try:
                item = await asyncio.wait_for(queue.get(), max(wake - now, 0))
            except TimeoutError:
                if time.monotonic() < deadline:
                    yield _sse(selectors.halt(selectors.REASON_STATE_UNAVAILABLE))
                return
            if item is LISTENER_LOST:
                yield _sse(selectors.halt(selectors.REASON_STATE_UNAVAILABLE))
                return
            if item is TOKEN_REVOKED:
                yield _sse(selectors.halt(REASON_UNAUTHENTICATED))
                return
            # A change or a refresh, decided once for every stream: no query here. A
            # refresh read before a change it arrives after is older: skipped.
            if item.state["version"] >= state["version"]:
                state = item.state
                yield item.text
                heard_at = time.monotonic()
            if time.monotonic() >= deadline:
                return
    finally:
        close()


async def _polled_async_events(
    slug: str, digest: str, state: dict[str, Any], deadline: float
) -> AsyncIterator[str]:
    """Without NOTIFY (SQLite): read every STREAM_POLL_SECONDS_PORTABLE, send on a
    change and every half lease."""
    refresh = settings.OPSPORTAL_GATE_LEASE_SECONDS / 2
    sent_key, sent_at = _key(selectors.decide(state)), time.monotonic()
    while True:
        await asyncio.sleep(max(min(STREAM_POLL_SECONDS_PORTABLE, deadline - time.monotonic()), 0))
        if time.monotonic() >= deadline:
            return
        try:
            current = await _read_async(slug, digest)
        except DatabaseError:
            yield _sse(selectors.halt(selectors.REASON_STATE_UNAVAILABLE))
            return
        if current.state is None or current.token_id is None:
            yield _sse(selectors.halt(REASON_UNAUTHENTICATED))
            return
        decision = selectors.decide(current.state)
        if _key(decision) != sent_key or time.monotonic() - sent_at >= refresh:
            yield _sse(decision)
            sent_key, sent_at = _key(decision), time.monotonic()


def _key(decision: selectors.GateDecision) -> tuple[str, str, int | None]:
    return (decision.decision, decision.reason_code, decision.version)


# --- the WSGI fallback (make run, the test client) ---


def _polled_stream(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The stream served by a WSGI worker thread: reads the row every
    STREAM_POLL_SECONDS_PORTABLE seconds. Same answers and limits as the ASGI one."""
    raw = bearer_token(request.META.get("HTTP_AUTHORIZATION", ""))
    digest = services.hash_token(raw or "")
    try:
        read = _gate_read(slug, digest)
    except DatabaseError as exc:
        _log_unavailable(slug, exc)
        with contextlib.suppress(DatabaseError):
            connections[DEFAULT_DB_ALIAS].close()
        return _gate_response(selectors.halt(selectors.REASON_STATE_UNAVAILABLE), 503)
    refused = _refusal(read, raw)
    if refused is not None:
        return refused
    assert read.token_id is not None  # noqa: S101 - _refusal answered otherwise
    release = LIMITS.acquire(read.token_id)
    if release is None:
        return _too_many()
    response = StreamingHttpResponse(
        _polled_events(slug, digest, read, release), content_type="text/event-stream"
    )
    response._resource_closers.append(release)  # type: ignore[attr-defined]  # as above
    return _stream_headers(response)


def _polled_events(
    slug: str, digest: str, read: selectors.GateRead, release: Callable[[], None]
) -> Iterator[str]:
    refresh = settings.OPSPORTAL_GATE_LEASE_SECONDS / 2
    deadline = time.monotonic() + float(settings.OPSPORTAL_GATE_STREAM_SECONDS)
    sent_key: tuple[str, str, int | None] | None = None
    sent_at = 0.0
    current = read
    try:
        yield f"retry: {STREAM_RETRY_MS}\n\n"
        while True:
            if current.state is None or current.token_id is None:
                yield _sse(selectors.halt(REASON_UNAUTHENTICATED))
                return
            decision = selectors.decide(current.state)
            now = time.monotonic()
            if _key(decision) != sent_key or now - sent_at >= refresh:
                yield _sse(decision)
                sent_key, sent_at = _key(decision), now
            if now >= deadline:
                return
            time.sleep(min(STREAM_POLL_SECONDS_PORTABLE, refresh))
            try:
                current = _gate_read(slug, digest)
            except DatabaseError:
                with contextlib.suppress(DatabaseError):
                    connections[DEFAULT_DB_ALIAS].close()
                yield _sse(selectors.halt(selectors.REASON_STATE_UNAVAILABLE))
                return
    finally:
        release()
