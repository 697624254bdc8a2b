"""The sandbox HTTP server when a client goes away before reading its response."""

from __future__ import annotations

import logging
import socket
import struct
import threading

import requests

from connectors.sandbox.server import Response, Router, SandboxServer


def test_client_leaving_early_logs_no_traceback(caplog):
    reached = threading.Event()
    release = threading.Event()

    def slow(request):
        reached.set()
        release.wait(5)
        return Response(200, {"rows": ["x" * 1000] * 200})

    router = Router()
    router.add("GET", "/slow", "/slow", slow)
    router.add("GET", "/fast", "/fast", lambda request: Response(200, {"ok": True}))
    server = SandboxServer("test", router).start()
    try:
        client = socket.create_connection(("127.0.0.1", server.port))
        client.sendall(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert reached.wait(5)
        # Close with a reset, as a killed process's socket is.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        with caplog.at_level(logging.DEBUG, logger="connectors.sandbox.server"):
            release.set()
            answer = requests.get(f"{server.base_url}/fast", timeout=5)
    finally:
        server.stop()

    assert answer.json() == {"ok": True}
    assert "Traceback" not in caplog.text
    assert "test sandbox: the client closed the connection before the response to GET /slow" in caplog.text
