"""The bench's HTTP client: a keep-alive socket and llhttp, so that a latency is the service's own.

A client's time between sending a request and holding its answer counts in the latency it measures.
The standard library's `http.client`, the lightest of the Python clients, took ~0.3 ms of that after
the LLM's idle second (request building, and the `email` package parsing the answer's headers):
measured paired, request by request, against this client. This one writes the request's bytes at once
and feeds what arrives to httptools (llhttp, the C parser uvicorn reads requests with), as a client in
a compiled language would.
"""

from __future__ import annotations

import socket

import httptools
import httpx


class _Answer:
    """httptools' callbacks for one response: its body, and whether it is complete."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.complete = False

    def on_body(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def on_message_complete(self) -> None:
        self.complete = True


class WireClient:
    """One keep-alive connection to the service at `base`."""

    def __init__(self, base: str, timeout: float = 60) -> None:
        address = httpx.URL(base)
        self._host = f"{address.host}:{address.port}"
        self._socket = socket.create_connection((address.host, address.port), timeout=timeout)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def post(self, path: str, payload: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
        """The status and body of a POST of `payload` to `path`."""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self._socket.sendall(head.encode() + payload)
        answer = _Answer()
        parser = httptools.HttpResponseParser(answer)
        while not answer.complete:
            data = self._socket.recv(1 << 16)
            if not data:
                raise ConnectionError("the service closed the connection before answering")
            parser.feed_data(data)
        return parser.get_status_code(), b"".join(answer.chunks)

    def close(self) -> None:
        self._socket.close()
