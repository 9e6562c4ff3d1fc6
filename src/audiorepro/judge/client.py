"""OpenAI-compatible chat-completions judge (OpenAI, or any server speaking the same API: vLLM,
llama.cpp, LM Studio ...), with retries and a concurrency limit.

The API key is read from the environment only (OPENAI_API_KEY by default) and never logged or
written to provenance."""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Any

from ..errors import AudioreproError
from ..provenance import Deviation
from .base import Judge
from .cache import normalise_endpoint
from .deviations import judge_deviations
from .sakura import JUDGE_MODEL, JUDGE_SAMPLING

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class JudgeRequestError(AudioreproError):
    """The judge endpoint refused a request or kept failing after all retries."""


class OpenAICompatibleJudge(Judge):
    """Judge through `client.chat.completions.create(model, messages, temperature, top_p)`.

    The benchmark sends exactly those four arguments; nothing else (no max_tokens, no seed) is
    added. Retries: rate limits (429), server errors (5xx), timeouts and dropped connections are
    retried with exponential backoff and jitter, honouring a Retry-After header; other errors
    (400, 401, 404 ...) stop at once. We run the loop ourselves rather than the openai package's
    built-in retries so the policy (attempts, delays) is explicit, configurable and recorded.

    A reply that is not a chat completion (an HTML page from a proxy or a wrong --base-url, JSON
    without `choices`) stops the stage with an error naming the endpoint: it says nothing about
    the answer being judged, so counting it as an "invalid" verdict would lower the score."""

    def __init__(
        self,
        *,
        model: str = JUDGE_MODEL,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float = JUDGE_SAMPLING["temperature"],
        top_p: float = JUDGE_SAMPLING["top_p"],
        timeout: float = 60.0,
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        concurrency: int = 4,
    ):
        import openai

        self._openai = openai
        api_key = os.environ.get(api_key_env)
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        if not api_key:
            if self.base_url == DEFAULT_BASE_URL:
                raise AudioreproError(
                    f"the API judge needs a key in the environment variable {api_key_env} "
                    "(or --base-url of a local OpenAI-compatible server, which may need none)"
                )
            api_key = "unused"  # local servers usually ignore the key, the client insists on one
        self.model = model
        self.judge_id = model
        self.endpoint = normalise_endpoint(self.base_url)
        self.sampling = {"temperature": temperature, "top_p": top_p}
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.concurrency = concurrency
        self._client = openai.OpenAI(api_key=api_key, base_url=self.base_url, timeout=timeout, max_retries=0)

    def complete(self, messages: list[dict]) -> str:
        openai = self._openai
        retryable = (
            openai.RateLimitError,
            openai.InternalServerError,
            openai.APITimeoutError,
            openai.APIConnectionError,
        )
        for attempt in range(self.max_retries + 1):
            try:
                reply = self._client.chat.completions.create(
                    model=self.model, messages=messages, **self.sampling
                )
                return self._content(reply)
            except retryable as e:
                if attempt == self.max_retries:
                    raise JudgeRequestError(
                        f"judge {self.model} at {self.base_url}: giving up after {attempt + 1} attempts "
                        f"({type(e).__name__}: {_status(e)})"
                    ) from e
                delay = self._delay(attempt, e)
                log.warning(
                    "judge request failed (%s: %s); retry %d/%d in %.2fs",
                    type(e).__name__,
                    _status(e),
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                time.sleep(delay)
            except openai.APIStatusError as e:
                raise JudgeRequestError(
                    f"judge {self.model} at {self.base_url} refused the request: HTTP {e.status_code}"
                ) from e
        raise AssertionError("unreachable")

    def endpoint_deviations(self) -> list[dict]:
        return endpoint_deviations([self.endpoint])

    def _content(self, reply: Any) -> str:
        """The message text of a chat completion; anything else is an error naming the endpoint."""
        if isinstance(reply, str):  # the openai client hands back a non-JSON body as text
            start = " ".join(reply.split())[:80]
            raise JudgeRequestError(
                f"{self.base_url}: the judge endpoint answered with a non-JSON page, not a chat completion "
                f"(starts with {start!r}); check --base-url"
            )
        choices = getattr(reply, "choices", None)
        if not choices:
            fields = sorted(k for k, v in (reply.model_dump() if hasattr(reply, "model_dump") else {}).items() if v is not None)
            raise JudgeRequestError(
                f"{self.base_url}: the judge endpoint's reply has no 'choices' (fields: {', '.join(fields) or 'none'}); "
                "it is not an OpenAI-compatible chat completion"
            )
        message = getattr(choices[0], "message", None)
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            raise JudgeRequestError(f"{self.base_url}: judge {self.model} returned no message content")
        return content

    def _delay(self, attempt: int, error: Exception) -> float:
        response = getattr(error, "response", None)
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if retry_after is not None:
                try:
                    return min(float(retry_after), self.backoff_max)
                except ValueError:
                    pass  # an HTTP date: fall back to our own backoff
        return min(self.backoff_base * 2**attempt, self.backoff_max) * (0.5 + random.random() / 2)

    def describe(self) -> dict[str, Any]:
        deviations = judge_deviations(
            "sakura", judge=None if self.model == JUDGE_MODEL else self.model, sampling=self.sampling
        )
        deviations += self.endpoint_deviations()
        return {
            "kind": "api",
            "judge_id": self.judge_id,
            "model": self.model,
            "base_url": self.base_url,
            "endpoint": self.endpoint,
            "sampling": dict(self.sampling),
            "retries": {
                "max_retries": self.max_retries,
                "backoff_base": self.backoff_base,
                "timeout": self.timeout,
            },
            "concurrency": self.concurrency,
            "deviations": deviations,
        }


def endpoint_deviations(endpoints: list[str]) -> list[dict]:
    """Replies from a server other than OpenAI's (or of unknown origin) are a deviation even when
    it calls its model by the reference judge's name: nothing says it is that model."""
    if endpoints == [normalise_endpoint(DEFAULT_BASE_URL)]:
        return []
    return [Deviation(name="judge_endpoint", value=", ".join(endpoints), reference=DEFAULT_BASE_URL).model_dump()]


def _status(error: Exception) -> str:
    code = getattr(error, "status_code", None)
    return f"HTTP {code}" if code is not None else str(error) or "no response"
