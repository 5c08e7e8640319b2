"""The ASGI entry point: the gate stream server of the production topology
(`uvicorn opsportal.asgi:application`, README "Running in production").

Gate event streams go straight to `opsportal.controls.stream.asgi_gate_stream` (one
coroutine per open stream, no thread); any other request goes to Django.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
django_application = get_asgi_application()

# After get_asgi_application(): it sets Django up, which the controls app needs.
from opsportal.controls.stream import STREAM_PATH, asgi_gate_stream  # noqa: E402


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and STREAM_PATH.match(scope["path"]):
        await asgi_gate_stream(scope, receive, send)
    else:
        await django_application(scope, receive, send)
