"""A small HTTP server on 127.0.0.1 for tests that need a real remote end (image URLs,
webhook receivers): each test registers what a path answers and reads what was received."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Send the body in pieces of this many bytes, waiting this long between them.
    drip_bytes: int = 0
    drip_seconds: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Answer] | Callable[[], Answer]] = {}
        self.received: list[Received] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.received.append(
                    Received(self.command, self.path, dict(self.headers.items()), body)
                )
                answer = server._next_answer(self.path)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in answer.headers and not answer.drip_bytes:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                try:
                    if answer.drip_bytes:
                        for start in range(0, len(answer.body), answer.drip_bytes):
                            self.wfile.write(answer.body[start : start + answer.drip_bytes])
                            self.wfile.flush()
                            time.sleep(answer.drip_seconds)
                    else:
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should for oversized or slow answers

            do_GET = _answer
            do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, *answers: Answer) -> None:
        """Answer `path` with these in turn; the last one repeats."""
        self.routes[path] = list(answers)

    def _next_answer(self, path: str) -> Answer:
        answers = self.routes.get(path.split("?")[0])
        if not answers:
            return Answer(status=404, body=b"not found")
        if callable(answers):
            return answers()
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
