from __future__ import annotations

from opsportal.controls.models import Environment
from opsportal.drift.models import TimeSource
from opsportal.drift.services import time_source_create


def http_source(
    url: str, *environments: Environment, name: str = "exchange-time", **fields: object
) -> TimeSource:
    """An HTTP time source made through the service, with `fields` then set (limits,
    samples...) for the test."""
    source = time_source_create(
        actor=None,
        name=name,
        kind="http",
        url=url,
        json_field="epochTime",
        environments=list(environments),
    )
    if fields:
        TimeSource.objects.filter(pk=source.pk).update(**fields)
        source.refresh_from_db()
    return source


def ntp_source(port: int, *environments: Environment, name: str = "ntp-local") -> TimeSource:
    return time_source_create(
        actor=None,
        name=name,
        kind="ntp",
        ntp_host="127.0.0.1",
        ntp_port=port,
        environments=list(environments),
    )
