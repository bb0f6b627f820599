"""A loopback OpenAI-compatible server (``POST /v1/chat/completions``) for tests driven by the real
``openai`` client.

Scriptable per test: queue :class:`Reply` objects (good JSON, malformed text, an HTTP status such
as 429 or 500, a hung request); when the queue is empty the ``default`` responder answers (or a 500
if there is none). Every request is counted and its JSON body kept in ``bodies``.

    server = OpenAIServer().start()
    server.push(Reply.status(429), Reply.json({"prompts": [...]}))
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["OpenAIServer", "Reply", "prompt_responder"]


@dataclass
class Reply:
    """One scripted answer: an HTTP status with a body, optionally after a delay."""

    status: int = 200
    content: str | None = None
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def json(cls, payload: Any) -> Reply:
        """A completion whose message content is ``payload`` serialized as JSON."""
        return cls(content=json.dumps(payload))

    @classmethod
    def text(cls, content: str) -> Reply:
        """A completion whose message content is ``content`` verbatim (e.g. malformed JSON)."""
        return cls(content=content)

    @classmethod
    def error(cls, status: int, retry_after: float | None = None) -> Reply:
        """An HTTP error (429 rate limit, 500 server error, ...)."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        message = {"error": {"message": f"scripted {status}", "type": "test_error", "code": str(status)}}
        return cls(status=status, body=message, headers=headers)

    @classmethod
    def hang(cls, seconds: float = 30.0, then: Reply | None = None) -> Reply:
        """Answer only after ``seconds`` (longer than the client timeout: the request times out)."""
        base = then or cls.error(500)
        return cls(base.status, base.content, base.body, base.headers, delay=seconds)


def completion(content: str, model: str) -> dict[str, Any]:
    """A chat.completion object as the OpenAI API returns it."""
    return {
        "id": f"chatcmpl-test-{time.time_ns()}", "object": "chat.completion", "created": int(time.time()),
        "model": model, "system_fingerprint": "test",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        owner = self.server.owner
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
            return
        body = json.loads(raw or b"{}")
        reply = owner.next_reply(body, dict(self.headers))
        if reply.delay and owner.stopping.wait(reply.delay):
            return
        payload = reply.body if reply.content is None else completion(reply.content, body.get("model", "?"))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client timed out
            self._send(reply.status, payload, reply.headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: OpenAIServer


class OpenAIServer:
    """Threaded loopback server; ``requests`` counts requests, ``bodies`` keeps their JSON."""

    def __init__(self, port: int = 0, default: Callable[[dict[str, Any]], Reply] | None = None) -> None:
        self.default = default
        self.queue: deque[Reply] = deque()
        self.bodies: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> int:
        return len(self.bodies)

    def start(self) -> OpenAIServer:
        threading.Thread(target=self._httpd.serve_forever, name="test-openai", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def push(self, *replies: Reply) -> None:
        """Queue replies; they are served in order, one per request."""
        with self._lock:
            self.queue.extend(replies)

    def reset(self, default: Callable[[dict[str, Any]], Reply] | None = None) -> None:
        """Forget queued replies and counts; set a new default responder."""
        with self._lock:
            self.queue.clear()
            self.bodies.clear()
            self.auth_headers.clear()
            self.default = default

    def next_reply(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.bodies.append(body)
            self.auth_headers.append(headers.get("Authorization", headers.get("authorization", "")))
            if self.queue:
                return self.queue.popleft()
            default = self.default
        if default is None:
            return Reply.error(500)
        return default(body)


def prompt_responder(body: dict[str, Any]) -> Reply:
    """A well-behaved LLM for dsr's prompt backend: answers every request with as many valid
    records of the asked DSR type as it asks for (scenes unique per request seed and index)."""
    import re

    from dsr.prompts import DSRPrompt

    text = body["messages"][1]["content"]
    initial, final = re.search(r"initial=(\w+), final=(\w+)", text).groups()
    n = int(re.search(r"Write (\d+)", text).group(1))
    records = []
    for i in range(n):
        fields = {"scene": f"In room {body['seed']} number {i}", "animal": "fox", "object": "stump",
                  "initial": initial, "final": final, "verb": "trots"}
        records.append({**fields, "sentence": DSRPrompt.from_dict(fields).render()})
    return Reply.json({"prompts": records})
