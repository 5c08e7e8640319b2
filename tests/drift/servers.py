"""Real time servers on 127.0.0.1 for the drift tests (started by the tests).

`TimeHTTPServer`: an exchange-like time endpoint (`GET /time` →
`{"epochTime": <ms>}`) whose clock can be shifted (`skew_ms`), slowed
(`latency_ms` before answering), and made asymmetric for the first requests only
(`first_delay_after_read_ms`: the clock is read, then the answer waits, so the
midpoint of that round trip is wrong by half the delay). `garbage` makes it answer
something that is not a time.

`NTPResponder`: a UDP NTP server (mode 4 answers built with ntplib's packet class)
whose clock can be shifted the same way.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import ntplib


class TimeHTTPServer:
    def __init__(self, field: str = "epochTime") -> None:
        self.field = field
        self.skew_ms = 0.0
        self.latency_ms = 0.0
        self.first_delay_after_read_ms = 0.0
        self.first_requests = 1
        self.garbage: str | None = None
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner.requests += 1
                number = owner.requests
                if owner.latency_ms:
                    time.sleep(owner.latency_ms / 1000)
                now_ms = time.time_ns() / 1e6 + owner.skew_ms
                if number <= owner.first_requests and owner.first_delay_after_read_ms:
                    time.sleep(owner.first_delay_after_read_ms / 1000)
                if owner.garbage is not None:
                    body = owner.garbage.encode()
                else:
                    body = json.dumps({owner.field: int(now_ms)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/time"

    def __enter__(self) -> TimeHTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class NTPResponder:
    def __init__(self) -> None:
        self.skew_ms = 0.0
        self.stratum = 2
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            received = time.time() + self.skew_ms / 1000
            query = ntplib.NTPPacket()
            query.from_data(data)
            answer = ntplib.NTPPacket(version=4, mode=4)
            answer.stratum = self.stratum
            answer.ref_timestamp = ntplib.system_to_ntp_time(received - 1)
            answer.orig_timestamp = query.tx_timestamp
            answer.recv_timestamp = ntplib.system_to_ntp_time(received)
            answer.tx_timestamp = ntplib.system_to_ntp_time(time.time() + self.skew_ms / 1000)
            self.sock.sendto(answer.to_data(), addr)

    def __enter__(self) -> NTPResponder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()
