"""A loopback OpenAI-compatible server (``POST /v1/chat/completions``) for tests driven by the real
``openai`` client.

Scriptable per test: queue :class:`Reply` objects (good JSON, malformed text, a refusal, an HTTP
status such as 429 or 500, a hung request, a dropped connection); when the queue is empty the
``default`` responder answers (or a 500 if there is none). Every request is counted and its JSON
body kept in ``bodies``.

Messages may hold content parts as the vision API takes them (``text``, ``image_url`` with a
``data:image/...;base64`` URL, and vLLM's ``video_url``): a malformed part or an image that does not
decode gets a 400, as from the real API. :func:`message_text`, :func:`message_images` and
:func:`message_videos` give a responder what a request shows.

    server = OpenAIServer().start()
    server.push(Reply.status(429), Reply.json({"prompts": [...]}))
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "OpenAIServer",
    "Reply",
    "message_images",
    "message_text",
    "message_videos",
    "prompt_responder",
]


@dataclass
class Reply:
    """One scripted answer: an HTTP status with a body, optionally after a delay."""

    status: int = 200
    content: str | None = None
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    refusal: str | None = None
    drop: bool = False
    raw: str | None = None
    content_type: str = "application/json"

    @classmethod
    def json(cls, payload: Any) -> Reply:
        """A completion whose message content is ``payload`` serialized as JSON."""
        return cls(content=json.dumps(payload))

    @classmethod
    def text(cls, content: str) -> Reply:
        """A completion whose message content is ``content`` verbatim (e.g. malformed JSON)."""
        return cls(content=content)

    @classmethod
    def refused(cls, refusal: str = "I'm sorry, I can't help with that.") -> Reply:
        """A completion whose message is a refusal (``content`` null, ``refusal`` set)."""
        return cls(content="", refusal=refusal)

    @classmethod
    def page(cls, raw: str, content_type: str = "text/html") -> Reply:
        """HTTP 200 with a body that is no chat completion (a proxy's login page, another API's
        JSON): ``raw`` sent verbatim as ``content_type``."""
        return cls(raw=raw, content_type=content_type)

    @classmethod
    def dropped(cls) -> Reply:
        """No answer at all: the connection closes (a server that died mid-request)."""
        return cls(drop=True)

    @classmethod
    def error(
        cls, status: int, retry_after: float | None = None, message: str | None = None
    ) -> Reply:
        """An HTTP error (429 rate limit, 500 server error, ...)."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        body = {
            "error": {
                "message": message or f"scripted {status}",
                "type": "test_error",
                "code": str(status),
            }
        }
        return cls(status=status, body=body, headers=headers)

    @classmethod
    def hang(cls, seconds: float = 30.0, then: Reply | None = None) -> Reply:
        """Answer only after ``seconds`` (longer than the client timeout: the request times out)."""
        base = then or cls.error(500)
        return cls(base.status, base.content, base.body, base.headers, delay=seconds)


def completion(content: str, model: str, refusal: str | None = None) -> dict[str, Any]:
    """A chat.completion object as the OpenAI API returns it."""
    message = {"role": "assistant", "content": None if refusal else content, "refusal": refusal}
    return {
        "id": f"chatcmpl-test-{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "test",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None, "message": message}],
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
        if reply.drop:
            self.close_connection = True
            return
        if reply.delay and owner.stopping.wait(reply.delay):
            return
        payload = (
            reply.body
            if reply.content is None
            else completion(reply.content, body.get("model", "?"), reply.refusal)
        )
        data = json.dumps(payload).encode() if reply.raw is None else reply.raw.encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client timed out
            self._send(reply.status, data, reply.headers, reply.content_type)

    def _send(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str],
        content_type: str = "application/json",
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
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

    def __init__(
        self, port: int = 0, default: Callable[[dict[str, Any]], Reply] | None = None
    ) -> None:
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
            problem = content_problem(body)
            if problem:
                return Reply.error(400, message=problem)
            if self.queue:
                return self.queue.popleft()
            default = self.default
        if default is None:
            return Reply.error(500)
        return default(body)


def _parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The content parts of every message (a plain string content is one text part)."""
    parts: list[dict[str, Any]] = []
    for message in body.get("messages", []):
        content = message.get("content")
        parts.extend(
            [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        )
    return parts


def _data_url(url: str, kind: str) -> bytes:
    """The bytes of a ``data:<kind>/...;base64,`` URL (ValueError for anything else)."""
    head, comma, data = url.partition(",")
    if not (comma and head.startswith(f"data:{kind}/") and head.endswith(";base64")):
        raise ValueError(f"not a base64 data URL of a {kind}: {url[:40]!r}")
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"bad base64 in a {kind} URL: {exc}") from None


def _decode_image(data: bytes) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def content_problem(body: dict[str, Any]) -> str | None:
    """Why the API would refuse the content parts of ``body`` (400), or None."""
    for part in _parts(body):
        kind = part.get("type") if isinstance(part, dict) else None
        try:
            if kind == "text" and isinstance(part.get("text"), str):
                continue
            if kind == "image_url":
                _decode_image(_data_url(part["image_url"]["url"], "image"))
            elif kind == "video_url":
                _data_url(part["video_url"]["url"], "video")
            else:
                return f"Invalid content part: {str(part)[:80]}"
        except (KeyError, TypeError, ValueError, OSError) as exc:
            return f"Invalid {kind} content part: {exc}"
    return None


def message_text(body: dict[str, Any]) -> str:
    """The text parts of the request, joined by newlines."""
    return "\n".join(p["text"] for p in _parts(body) if p.get("type") == "text")


def message_images(body: dict[str, Any]) -> list[Any]:
    """The images of the request, in order, as uint8 RGB arrays (H, W, 3)."""
    return [
        _decode_image(_data_url(p["image_url"]["url"], "image"))
        for p in _parts(body)
        if p.get("type") == "image_url"
    ]


def message_videos(body: dict[str, Any]) -> list[bytes]:
    """The videos (``video_url`` parts) of the request, as bytes."""
    return [
        _data_url(p["video_url"]["url"], "video")
        for p in _parts(body)
        if p.get("type") == "video_url"
    ]


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
        fields = {
            "scene": f"In room {body['seed']} number {i}",
            "animal": "fox",
            "object": "stump",
            "initial": initial,
            "final": final,
            "verb": "trots",
        }
        records.append({**fields, "sentence": DSRPrompt.from_dict(fields).render()})
    return Reply.json({"prompts": records})
