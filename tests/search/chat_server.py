"""A chat-completions server on loopback that behaves as each test tells it to.

It speaks ``POST /v1/chat/completions`` like OpenAI, vLLM or Ollama. A test gives it a
behaviour: a function from the request to what the server does (answer some text, answer
an HTTP error, wait first, or drop the connection). Candidate images in the tests are solid
colours, so a behaviour can "look at" the image it was sent and score by colour.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

PALETTE = {
    "red": (220, 30, 30),
    "green": (30, 170, 30),
    "blue": (30, 30, 220),
    "yellow": (235, 220, 30),
    "black": (0, 0, 0),
    "white": (255, 255, 255),
}


def solid_image(colour: str, size: tuple[int, int] = (640, 480)) -> Image.Image:
    return Image.new("RGB", size, PALETTE[colour])


def nearest_colour(image: Image.Image) -> str:
    pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    return min(
        PALETTE,
        key=lambda name: sum((a - b) ** 2 for a, b in zip(PALETTE[name], pixel, strict=True)),
    )


@dataclass
class ChatRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    def _parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                parts.extend(content)
            elif isinstance(content, str):
                parts.append({"type": "text", "text": content})
        return parts

    @property
    def image_urls(self) -> list[str]:
        return [p["image_url"]["url"] for p in self._parts() if p.get("type") == "image_url"]

    @property
    def text(self) -> str:
        return "\n".join(p["text"] for p in self._parts() if p.get("type") == "text")

    @property
    def images(self) -> list[Image.Image]:
        decoded = []
        for url in self.image_urls:
            _, _, data = url.partition(";base64,")
            decoded.append(Image.open(io.BytesIO(base64.b64decode(data))))
        return decoded

    @property
    def candidate_colour(self) -> str:
        """The colour of the candidate image: the last image in the prompt."""
        return nearest_colour(self.images[-1])


# --- what the server does with a request


@dataclass(frozen=True)
class Answer:
    content: str | None


@dataclass(frozen=True)
class Status:
    code: int
    body: dict[str, Any] = field(default_factory=lambda: {"error": {"message": "server error"}})


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering."""


@dataclass(frozen=True)
class Delay:
    seconds: float
    then: Answer | Status | Drop


Action = Answer | Status | Drop | Delay
Behaviour = Callable[[ChatRequest], Action]


def score_by_colour(scores: dict[str, float]) -> Behaviour:
    def behaviour(request: ChatRequest) -> Action:
        colour = request.candidate_colour
        return Answer(json.dumps({"score": scores[colour], "reason": f"it is {colour}"}))

    return behaviour


def always(action: Action) -> Behaviour:
    return lambda request: action


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        request = ChatRequest(
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=json.loads(raw or b"{}"),
        )
        self.server.record(request)
        if self.path != "/v1/chat/completions":
            self._send(Status(404, {"error": {"message": "not found"}}), request)
            return
        self._send(self.server.behaviour(request), request)

    def _send(self, action: Action, request: ChatRequest) -> None:
        if isinstance(action, Delay):
            # Stopping the server wakes a handler that is still "thinking"; it then hangs up.
            action = Drop() if self.server.stopping.wait(action.seconds) else action.then
        try:
            if isinstance(action, Drop):
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if isinstance(action, Status):
                self._write(action.code, action.body)
                return
            self._write(
                200,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": action.content},
                            "finish_reason": "stop",
                        }
                    ],
                },
            )
        except OSError:
            pass  # the client gave up waiting: that is what some tests are about

    def _write(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, behaviour: Behaviour):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.requests: list[ChatRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def record(self, request: ChatRequest) -> None:
        with self._lock:
            self.requests.append(request)


class ChatServer:
    """``with ChatServer(behaviour) as server: ... server.base_url ... server.requests``"""

    def __init__(self, behaviour: Behaviour | None = None):
        self._server = _Server(behaviour or always(Status(500)))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def behaviour(self) -> Behaviour:
        return self._server.behaviour

    @behaviour.setter
    def behaviour(self, behaviour: Behaviour) -> None:
        self._server.behaviour = behaviour

    @property
    def requests(self) -> list[ChatRequest]:
        with self._server._lock:
            return list(self._server.requests)

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()  # releases handlers still "thinking"
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
