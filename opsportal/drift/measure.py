"""Measuring a clock offset against a time source (DESIGN "Drift checks").

Several round trips, a few ms apart; the one with the shortest round-trip time is
kept, because its midpoint is the least disturbed by queueing and asymmetric delay:

    offset_ms = server_ms − (send_ms + receive_ms) / 2      error_ms = rtt_ms / 2

A positive offset means the local clock runs behind the source; negative, ahead.
HTTP sources answer JSON with epoch milliseconds under a configured key; NTP
sources are asked with `ntplib` (the standard four-timestamp NTP offset, the same
quantity). Nothing here touches the database: `measure(source)` returns a
`Measurement` or raises `SourceUnusable` (unreachable, or an answer that is garbage).
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

import ntplib  # type: ignore[import-untyped]  # ntplib ships no type information

SAMPLE_SPACING_SECONDS = 0.005
MAX_BODY_BYTES = 64 * 1024
# An epoch in ms must be a plausible wall-clock time (2001..2286): anything else is
# garbage (seconds instead of ms, a counter, a string).
_MIN_EPOCH_MS, _MAX_EPOCH_MS = 1e12, 1e13


class SourceUnusable(Exception):  # noqa: N818 - reads as "the source is unusable"
    """The source could not be reached, or answered something that is not a time."""


@dataclass(frozen=True)
class Measurement:
    offset_ms: float
    rtt_ms: float
    error_ms: float
    samples_taken: int
    samples_asked: int


class SourceSpec(Protocol):
    kind: str
    url: str
    json_field: str
    ntp_host: str
    ntp_port: int
    samples: int
    timeout_ms: int


def _now_ms() -> float:
    return time.time_ns() / 1e6


def measure(source: SourceSpec) -> Measurement:
    if source.kind == "ntp":
        return _measure_ntp(source)
    return _measure_http(source)


def _pick(samples: list[tuple[float, float]], asked: int) -> Measurement:
    """`samples` = [(offset_ms, rtt_ms)]; keep the shortest round trip."""
    offset, rtt = min(samples, key=lambda s: s[1])
    return Measurement(
        offset_ms=round(offset, 3),
        rtt_ms=round(rtt, 3),
        error_ms=round(rtt / 2, 3),
        samples_taken=len(samples),
        samples_asked=asked,
    )


def epoch_ms_at(document: Any, field: str) -> float:
    """The epoch ms under dotted `field` of a JSON document; SourceUnusable if it is
    missing or not a plausible epoch in milliseconds."""
    value = document
    for key in field.split("."):
        if not isinstance(value, dict) or key not in value:
            raise SourceUnusable(f"the answer has no '{field}'")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SourceUnusable(f"'{field}' is not a number")
    try:
        number = float(value)
    except ValueError:
        raise SourceUnusable(f"'{field}' is not a number") from None
    if not math.isfinite(number) or not _MIN_EPOCH_MS <= number <= _MAX_EPOCH_MS:
        raise SourceUnusable(f"'{field}' = {str(value)[:40]} is not epoch milliseconds")
    return number


def _measure_http(source: SourceSpec) -> Measurement:
    parts = urllib.parse.urlsplit(source.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceUnusable("the URL is not http(s)")
    timeout = source.timeout_ms / 1000
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    conn = connection_class(parts.hostname, parts.port, timeout=timeout)
    samples: list[tuple[float, float]] = []
    last_error = "no answer"
    try:
        # The first request also opens the connection (and TLS): its round trip is
        # longer, and min-RTT selection leaves it out when later ones are quicker.
        for i in range(source.samples):
            if i:
                time.sleep(SAMPLE_SPACING_SECONDS)
            try:
                send = _now_ms()
                conn.request("GET", path, headers={"Accept": "application/json"})
                response = conn.getresponse()
                body = response.read(MAX_BODY_BYTES + 1)
                receive = _now_ms()
            except (OSError, http.client.HTTPException) as exc:
                last_error = f"{type(exc).__name__}: {exc}"[:200]
                conn.close()
                continue
            if response.status != 200:
                last_error = f"HTTP {response.status}"
                continue
            if len(body) > MAX_BODY_BYTES:
                raise SourceUnusable("the answer is too large")
            try:
                document = json.loads(body)
            except ValueError:
                raise SourceUnusable("the answer is not JSON") from None
            server = epoch_ms_at(document, source.json_field)
            samples.append((server - (send + receive) / 2, receive - send))
    finally:
        conn.close()
    if not samples:
        raise SourceUnusable(last_error)
    return _pick(samples, source.samples)


def _measure_ntp(source: SourceSpec) -> Measurement:
    client = ntplib.NTPClient()
    samples: list[tuple[float, float]] = []
    last_error = "no answer"
    for i in range(source.samples):
        if i:
            time.sleep(SAMPLE_SPACING_SECONDS)
        try:
            stats = client.request(
                source.ntp_host, version=4, port=source.ntp_port, timeout=source.timeout_ms / 1000
            )
        except (ntplib.NTPException, OSError, socket.gaierror) as exc:
            last_error = f"{type(exc).__name__}: {exc}"[:200]
            continue
        # Kiss-of-death / unsynchronised servers, or no transmit time: not a time.
        if stats.stratum == 0 or stats.leap == 3 or stats.tx_timestamp == 0:
            raise SourceUnusable("the NTP server is not synchronised (stratum 0 or leap 3)")
        if stats.delay < 0 or not math.isfinite(stats.offset):
            raise SourceUnusable("the NTP answer's timestamps are inconsistent")
        samples.append((stats.offset * 1000, stats.delay * 1000))
    if not samples:
        raise SourceUnusable(last_error)
    return _pick(samples, source.samples)
