"""The bench's client reads whole answers over one keep-alive connection, from a real HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.wire_client import WireClient


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: list[int] = []

    def do_POST(self) -> None:
        payload = self.rfile.read(int(self.headers["Content-Length"]))
        self.connections.append(self.client_address[1])
        if self.path == "/hang-up":
            self.close_connection = True
            return
        if self.path == "/chunked":
            self.send_response(201)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (payload[:3], payload[3:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        answer = self.headers["Content-Type"].encode() + b" " + payload[::-1]
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def base() -> Iterator[str]:
    _Echo.connections = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_answers_are_read_whole_on_one_connection(base: str) -> None:
    client = WireClient(base)
    large = bytes(range(256)) * 1024  # larger than one read
    assert client.post("/echo", b"abc") == (200, b"application/json cba")
    assert client.post("/echo", large, "application/octet-stream") == (
        200,
        b"application/octet-stream " + large[::-1],
    )
    assert client.post("/chunked", b"hello world") == (201, b"hello world")
    client.close()
    assert len(_Echo.connections) == 3
    assert len(set(_Echo.connections)) == 1


def test_a_connection_closed_before_the_answer_is_an_error(base: str) -> None:
    client = WireClient(base)
    with pytest.raises(ConnectionError, match="closed the connection"):
        client.post("/hang-up", b"x")
    client.close()
