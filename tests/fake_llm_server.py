"""A tiny OpenAI-compatible chat server on a loopback port, for tests that run `factline serve` for real.

It answers every completion after a delay with the grounded answer of `tests.batch_support`, and
counts what it was asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.batch_support import completion, facts_for


@dataclass
class FakeLLM:
    base_url: str
    delay: float
    articles: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def fake_llm_server(delay: float) -> Iterator[FakeLLM]:
    state: FakeLLM

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            article = body["messages"][-1]["content"].split("Article:\n", 1)[1]
            with state.lock:
                state.articles.append(article)
            time.sleep(state.delay)
            payload = json.dumps(completion(facts_for(article))).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = FakeLLM(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", delay=delay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
