"""The ``openai`` backend: GPT-4o or any OpenAI-compatible chat endpoint (vLLM, Ollama, TGI).

Asks for structured output (a JSON schema of prompt records), with explicit diversity hints per
request. Requests run concurrently (bounded), retry with exponential backoff on 429, 5xx,
timeouts and connection errors (:mod:`.openai_calls`, shared with ``dsr judge``), and every
successful response is cached on disk by request (:mod:`.llm_cache`), so a re-run, or a run after
a crash, makes no duplicate calls.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsr.builders.prompt_backends import vocab
from dsr.builders.prompt_backends.base import BackendContext, Candidate
from dsr.builders.prompt_backends.llm_cache import ResponseCache, request_key
from dsr.builders.prompt_backends.openai_calls import (
    RETRY_STATUS,
    ChatEndpoint,
    map_bounded,
    short_error,
    without_credentials,
)
from dsr.builders.prompt_backends.openai_messages import messages_for, response_format
from dsr.errors import ConfigError
from dsr.limits import MAX_CONCURRENCY, MAX_REQUEST_PROMPTS, check_max
from dsr.prompts import DSRType

__all__ = ["RETRY_STATUS", "OpenAIBackend", "OpenAIBackendConfig", "without_credentials"]


@dataclass(frozen=True)
class OpenAIBackendConfig:
    """Settings of the openai backend (the API key is only ever read from the environment)."""

    model: str = field(default="gpt-4o", metadata={"help": "Chat model name."})
    base_url: str | None = field(
        default=None,
        metadata={
            "help": (
                "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default: "
                "$OPENAI_BASE_URL, else api.openai.com)."
            )
        },
    )
    api_key_env: str = field(
        default="OPENAI_API_KEY", metadata={"help": "Environment variable holding the API key."}
    )
    per_request: int = field(default=10, metadata={"help": "Prompts asked for in one request."})
    concurrency: int = field(default=4, metadata={"help": "Requests in flight at once."})
    timeout: float = field(default=60.0, metadata={"help": "Seconds before one request times out."})
    max_retries: int = field(
        default=4,
        metadata={"help": "Retries per request on 408, 409, 429, 5xx, timeouts, lost connections."},
    )
    backoff: float = field(
        default=1.0, metadata={"help": "First retry delay in seconds; doubles each retry."}
    )
    backoff_max: float = field(
        default=30.0, metadata={"help": "Longest retry delay (also caps Retry-After)."}
    )
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    structured: bool = field(
        default=True,
        metadata={
            "help": "Ask for a JSON schema; off: plain JSON mode for servers without schemas."
        },
    )
    oversample: float = field(
        default=1.2, metadata={"help": "Prompts asked for per missing prompt."}
    )

    def __post_init__(self) -> None:
        for name in ("per_request", "concurrency"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)}: must be at least 1")
        check_max("per_request", self.per_request, MAX_REQUEST_PROMPTS, "default 10")
        check_max("concurrency", self.concurrency, MAX_CONCURRENCY, "default 4")
        if not self.timeout > 0:
            raise ConfigError(f"timeout={self.timeout}: must be more than 0 seconds")
        for name in ("backoff", "max_retries", "temperature"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)}: must be 0 or more")
        if self.oversample < 1.0:
            raise ConfigError(f"oversample={self.oversample}: must be at least 1.0")
        if self.base_url is not None and not str(self.base_url).startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url={self.base_url!r}: expected an http(s) URL such as http://localhost:8000/v1"
            )


class OpenAIBackend:
    """Chat-completions prompt synthesis with a response cache."""

    name = "openai"
    exhaustive = False
    config_class = OpenAIBackendConfig

    def __init__(self, context: BackendContext) -> None:
        self.config = OpenAIBackendConfig(**dict(context.options))
        self.seed = context.seed
        self.cache = ResponseCache(context.cache_dir)
        c = self.config
        self.endpoint = ChatEndpoint(
            c.base_url,
            c.api_key_env,
            c.timeout,
            c.max_retries,
            c.backoff,
            c.backoff_max,
            refused_hint=(
                "check --model and --base-url, or use --json-mode for servers without JSON schemas"
            ),
        )

    def source(self) -> str:
        return f"openai:{self.config.model}"

    def generate(self, wanted: Mapping[DSRType, int], round_index: int) -> Iterator[Candidate]:
        requests = self._requests(wanted, round_index)
        # in request order; a fatal error (bad key, refused request) or Ctrl-C sends nothing more
        answers = map_bounded(self._answer, requests, self.config.concurrency)
        for request, (content, failure) in zip(requests, answers, strict=True):
            yield from self._candidates(request, content, failure)

    # -- requests ------------------------------------------------------------------------------
    def _requests(self, wanted: Mapping[DSRType, int], round_index: int) -> list[dict[str, Any]]:
        out = []
        for dsr_type, count in wanted.items():
            total = int(count * self.config.oversample + 0.999)
            batches = -(-total // self.config.per_request)
            for batch in range(batches):
                rng = random.Random(f"dsr-openai:{self.seed}:{round_index}:{dsr_type.code}:{batch}")
                hints = [
                    rng.sample(sorted(v), k)
                    for v, k in ((vocab.ANIMAL_VERBS, 4), (vocab.OBJECTS, 4), (vocab.PLACES, 3))
                ]
                out.append(
                    self._body(dsr_type, self.config.per_request, hints, rng.randrange(2**31))
                )
        return out

    def _body(self, dsr_type: DSRType, n: int, hints: list[list[str]], seed: int) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "messages": messages_for(dsr_type, n, *hints),
            "response_format": response_format(self.config.structured, dsr_type),
            "temperature": self.config.temperature,
            "seed": seed,
        }

    def _answer(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """(response text, None) from the cache or the API, or (None, why it failed)."""
        key = request_key({"endpoint": self.endpoint.url, **body})  # same server, same key
        cached = self.cache.get(key)
        if cached is not None:
            return cached, None
        reply, failure = self.endpoint.complete(body)
        content = None if reply is None else reply.content or ""
        if content is not None:
            self.cache.put(key, body, content)
        return content, failure

    # -- responses -----------------------------------------------------------------------------
    def _candidates(
        self, body: dict[str, Any], content: str | None, failure: str | None
    ) -> Iterator[Candidate]:
        origin = f"request {request_key(body)[:12]}"
        src = self.source()
        if content is None:
            yield Candidate(src, origin, error=("request_failed", failure or "failed"))
            return
        try:
            records = json.loads(content)["prompts"]
            if not isinstance(records, list):
                raise TypeError("'prompts' is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            yield Candidate(
                src,
                origin,
                sentence=None,
                error=(
                    "bad_response",
                    f"not the requested JSON ({short_error(exc)}): {content[:120]!r}",
                ),
            )
            return
        for index, record in enumerate(records):
            where = f"{origin} #{index}"
            if not isinstance(record, dict) or not isinstance(record.get("sentence"), str):
                yield Candidate(
                    src,
                    where,
                    error=("bad_response", f"record without a sentence: {str(record)[:120]!r}"),
                )
                continue
            fields = {
                k: record.get(k) for k in ("scene", "animal", "object", "initial", "final", "verb")
            }
            yield Candidate(src, where, sentence=record["sentence"], fields=fields)
