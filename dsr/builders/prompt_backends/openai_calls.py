"""Calls to one OpenAI-compatible chat endpoint, shared by the ``openai`` prompt backend and
``dsr judge``.

:class:`ChatEndpoint` owns the client (the API key is read from the environment only; credentials
in a base URL are never sent, logged or stored), retries with exponential backoff on 408, 409,
429, 5xx, timeouts and lost connections (a ``Retry-After`` header sets the delay, capped), and
turns a rejected key or a refused request into a :class:`~dsr.errors.ConfigError` at once.
:func:`map_bounded` runs calls with bounded concurrency and sends nothing more once one raised.
Responses are cached by the callers with :mod:`.llm_cache`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dsr.errors import ConfigError

__all__ = [
    "DEFAULT_ENDPOINT",
    "RETRY_STATUS",
    "ChatEndpoint",
    "ChatReply",
    "map_bounded",
    "without_credentials",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Statuses retried with backoff, besides 5xx, timeouts and connection errors (as the openai client
#: itself retries: request timeout, lock conflict, rate limit).
RETRY_STATUS = (408, 409, 429)
DEFAULT_ENDPOINT = "https://api.openai.com/v1"


@dataclass(frozen=True)
class ChatReply:
    """What one completion said: its text, a refusal (structured-output refusals), the token usage
    and why it stopped."""

    content: str | None
    refusal: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None


@dataclass
class ChatEndpoint:
    """One endpoint with its retry policy; ``refused_hint`` ends the message of a
    refused request."""

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 1.0
    backoff_max: float = 30.0
    refused_hint: str = "check --model and --base-url"
    _client: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # the endpoint the openai client will really call (it reads $OPENAI_BASE_URL
        # itself otherwise)
        self.base_url = without_credentials(
            self.base_url or os.environ.get("OPENAI_BASE_URL") or None
        )

    @property
    def url(self) -> str:
        """The endpoint as part of a cache key: same server, same answers (no trailing slash)."""
        return (self.base_url or DEFAULT_ENDPOINT).rstrip("/")

    def complete(self, body: dict[str, Any]) -> tuple[ChatReply | None, str | None]:
        """(the reply, None), or (None, why it failed after every retry); fatal errors raise."""
        import openai

        client = self.client()
        failure = "no attempt"
        for attempt in range(self.max_retries + 1):
            try:
                response = client.chat.completions.create(**body)
            except openai.AuthenticationError as exc:
                raise ConfigError(
                    f"the endpoint rejected the API key from ${self.api_key_env} "
                    f"({exc.status_code}): set a valid key"
                ) from None
            except (openai.APIStatusError, openai.APIConnectionError) as exc:  # timeouts included
                status = getattr(exc, "status_code", None)
                if status is not None and status not in RETRY_STATUS and status < 500:
                    raise ConfigError(
                        f"the endpoint refused the request ({status}: {short_error(exc)}); "
                        f"{self.refused_hint}"
                    ) from None
                failure = f"{type(exc).__name__}: {short_error(exc)}"
                if attempt < self.max_retries:
                    delay = self.delay(attempt, exc)
                    log.info("request failed (%s); retry %d in %.2fs", failure, attempt + 1, delay)
                    time.sleep(delay)
                continue
            return self._reply(response), None
        return None, f"gave up after {self.max_retries + 1} attempts: {failure}"

    def _reply(self, response: Any) -> ChatReply:
        """The reply of an HTTP 200; a body that is no chat completion (a proxy's page, a wrong
        --base-url that answers something else) is a ConfigError naming the URL and the body."""
        try:
            return _reply(response)
        except (AttributeError, IndexError, TypeError):
            body = " ".join(_body_text(response).split())[:80]
            raise ConfigError(
                f"{self.url}/chat/completions answered HTTP 200 with no chat completion "
                f"(the body begins {body!r}); {self.refused_hint}: the URL of an "
                "OpenAI-compatible API usually ends in /v1"
            ) from None

    def delay(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry ``attempt + 1``: ``Retry-After`` if the server sent one, else
        ``backoff · 2^attempt``; never above ``backoff_max``."""
        delay = self.backoff * 2**attempt
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            delay = float(retry_after)
        return min(max(delay, 0.0), self.backoff_max)

    def client(self) -> Any:
        """The openai client (made once); refuses a missing key where the endpoint needs one."""
        if self._client is None:
            import openai

            key = os.environ.get(self.api_key_env)
            if not key and self.base_url is None:
                raise ConfigError(
                    f"${self.api_key_env} is not set: export your OpenAI API key, "
                    "or pass --base-url for a local OpenAI-compatible server"
                )
            self._client = openai.OpenAI(
                api_key=key or "EMPTY", base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
        return self._client


def _body_text(response: Any) -> str:
    """What came back, as text: the body itself, or the JSON the client parsed it into."""
    if isinstance(response, str):
        return response
    try:
        return str(response.model_dump_json(warnings=False, exclude_unset=True))
    except Exception:  # not a pydantic model: its type is all there is to say
        return type(response).__name__


def _reply(response: Any) -> ChatReply:
    choice = response.choices[0]
    if choice.message is None:
        raise AttributeError("message")
    usage = response.usage.model_dump() if getattr(response, "usage", None) is not None else {}
    tokens = {k: int(v) for k, v in usage.items() if k.endswith("_tokens") and isinstance(v, int)}
    return ChatReply(
        choice.message.content,
        getattr(choice.message, "refusal", None),
        tokens,
        choice.finish_reason,
    )


class _Skipped(Exception):
    """A call not made because an earlier one raised."""


def map_bounded(fn: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    """``[fn(x) for x in items]`` with at most ``concurrency`` calls in flight, in order. Once a
    call raises (a fatal error, Ctrl-C), no further call starts, the calls in flight finish, and the
    first error re-raises."""
    failed = threading.Event()

    def guarded(item: T) -> R:
        if failed.is_set():
            raise _Skipped
        try:
            return fn(item)
        except BaseException:
            failed.set()
            raise

    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        return list(pool.map(guarded, items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def without_credentials(url: str | None) -> str | None:
    """``url`` without a ``user:password@`` part. httpx would send those as Basic auth, replacing
    the Bearer API key; the key from the environment is what authenticates a request."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    log.warning(
        "the credentials in the base URL are not sent: the API key from the environment is the "
        "Bearer token (endpoint %s)",
        urllib.parse.urlunsplit(parts._replace(netloc=netloc)),
    )
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def short_error(exc: Exception) -> str:
    """The first line of an exception's message (at most 200 characters)."""
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
