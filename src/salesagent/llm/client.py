"""A small OpenAI-compatible chat client with a hard time budget, retries and metrics.

Why not the ``openai`` package: a voice turn has a fixed time budget (800 ms by default) that
must hold for the whole call, retries included, and the servers differ in how they take a JSON
schema. Plain ``httpx`` keeps both explicit:

* the budget is a deadline: every attempt gets the time that is left as its timeout, retries
  (tenacity, exponential backoff) only start when the backoff still fits, and the call itself
  runs in a worker thread that is abandoned at the deadline, so no server behaviour (a slow
  drip of bytes, a hung DNS lookup) can hold the turn longer;
* ``response_format`` per backend: vLLM and OpenAI take ``{"type": "json_schema", ...}``;
  llama.cpp's server answers that with HTTP 500 and wants ``{"type": "json_object", "schema":
  ...}`` (measured, see docs/llm.md).
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential

from salesagent.llm import metrics
from salesagent.llm.config import Backend, LLMSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

# Shared by all clients: a call that outlives its deadline keeps its thread until httpx's own
# timeout ends it, so the pool is larger than the concurrency of one process's turns.
_EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="llm-call")


class LLMError(Exception):
    """No usable answer. ``reason`` is the metrics label."""

    reason = "error"


class LLMTimeout(LLMError):
    reason = "timeout"


class LLMUnavailable(LLMError):
    """Connection refused/reset or a 5xx/429 that retries did not cure."""

    reason = "unavailable"


class LLMBadResponse(LLMError):
    """A 4xx, or an answer that is not the JSON the schema asks for."""

    reason = "bad_response"


class _Transient(Exception):
    """Internal: worth a retry (connection error, 429, 5xx)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def response_format(backend: Backend, schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``response_format`` object each server understands for schema-constrained JSON."""
    if backend == "llamacpp":
        return {"type": "json_object", "schema": schema}
    # vLLM runs its guided decoding (xgrammar/outlines) on a json_schema; OpenAI's strict mode
    # would require every property, which costs output tokens on every turn, so it stays off.
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": backend == "vllm"}}


class ChatClient:
    """Chat completions against ``LLM_BASE_URL`` within ``budget_ms``."""

    def __init__(self, settings: LLMSettings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self._http = http or httpx.Client(
            headers={"Authorization": f"Bearer {settings.api_key}"},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        )

    def close(self) -> None:
        self._http.close()

    def probe(self, timeout_s: float = 3.0) -> str | None:
        """Why the server cannot be reached (one line), or None when it answers HTTP at all.

        Used at start-up to tell "no server there" (fail fast or warn) from "slow to answer" (the
        warm-up's business): any HTTP status counts as reachable, ``/models`` is not required.
        """
        try:
            self._http.get(str(self.settings.base_url).rstrip("/") + "/models", timeout=httpx.Timeout(timeout_s))
        except httpx.TimeoutException:
            return f"no answer within {timeout_s:.0f} s"
        except httpx.TransportError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None

    # -- public ----------------------------------------------------------------------------------
    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        operation: str,
        variant: str = "baseline",
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
        max_tokens: int = 128,
        temperature: float | None = None,
        budget_s: float | None = None,
    ) -> str:
        """The assistant message's text. Raises :class:`LLMError` (never anything else)."""
        budget = self.settings.budget_s if budget_s is None else budget_s
        deadline = time.monotonic() + budget
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature if temperature is None else temperature,
        }
        if schema is not None:
            body["response_format"] = response_format(self.settings.backend, schema, schema_name)
        started = time.monotonic()
        outcome = "ok"
        try:
            future = _EXECUTOR.submit(self._with_retries, body, deadline, operation, variant)
            try:
                return future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                future.cancel()
                raise LLMTimeout(f"no answer within {budget * 1000:.0f} ms") from None
        except LLMError as exc:
            outcome = exc.reason
            metrics.FAILURES.labels(operation, variant, exc.reason).inc()
            log.warning(
                "LLM call failed",
                extra={"context": {"operation": operation, "variant": variant, "reason": exc.reason,
                                   "detail": str(exc)[:300], "budget_ms": round(budget * 1000)}},
            )
            raise
        except Exception as exc:  # a bug or an exotic transport error: still an LLMError to callers
            outcome = "error"
            metrics.FAILURES.labels(operation, variant, "error").inc()
            log.exception("LLM call crashed", extra={"context": {"operation": operation, "variant": variant}})
            raise LLMError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            metrics.REQUEST_SECONDS.labels(operation, variant, outcome).observe(time.monotonic() - started)

    def complete_json(
        self,
        messages: list[dict[str, str]],
        model: type[M],
        *,
        operation: str,
        variant: str = "baseline",
        schema: dict[str, Any] | None = None,
        max_tokens: int = 160,
        budget_s: float | None = None,
    ) -> tuple[M, str]:
        """Schema-constrained completion parsed into ``model``; also returns the raw text."""
        raw = self.complete(
            messages,
            operation=operation,
            variant=variant,
            schema=schema if schema is not None else model.model_json_schema(),
            schema_name=model.__name__,
            max_tokens=max_tokens,
            budget_s=budget_s,
        )
        try:
            return model.model_validate_json(raw), raw
        except ValidationError as exc:
            metrics.FAILURES.labels(operation, variant, "bad_json").inc()
            log.warning(
                "LLM answer does not match the schema",
                extra={"context": {"operation": operation, "variant": variant, "raw": raw[:300],
                                   "error": str(exc.errors()[:2])}},
            )
            raise LLMBadResponse(f"answer does not match {model.__name__}: {exc.error_count()} errors") from exc

    # -- internals -------------------------------------------------------------------------------
    def _with_retries(self, body: dict[str, Any], deadline: float, operation: str, variant: str) -> str:
        def out_of_time(state: RetryCallState) -> bool:
            attempts_done = state.attempt_number > self.settings.max_retries
            upcoming = state.upcoming_sleep or 0.0
            # A retry needs its backoff plus a little time to be worth starting.
            return attempts_done or time.monotonic() + upcoming + 0.02 >= deadline

        def before_sleep(state: RetryCallState) -> None:
            metrics.RETRIES.labels(operation, variant).inc()
            exc = state.outcome.exception() if state.outcome else None
            log.info("LLM call retried", extra={"context": {"operation": operation, "attempt": state.attempt_number,
                                                            "reason": getattr(exc, "reason", "")}})

        backoff = self.settings.backoff_ms / 1000.0
        retrying = Retrying(
            stop=out_of_time,
            wait=wait_exponential(multiplier=backoff, min=backoff, max=max(backoff, 1.0)),
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, body, deadline)
        except _Transient as exc:
            if time.monotonic() >= deadline - 0.02:
                raise LLMTimeout(f"budget spent after retries: {exc}") from exc
            raise LLMUnavailable(str(exc)) from exc

    def _attempt(self, body: dict[str, Any], deadline: float) -> str:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMTimeout("budget spent before the request")
        try:
            response = self._http.post(self.settings.chat_url, json=body, timeout=httpx.Timeout(remaining))
        except httpx.TimeoutException as exc:
            raise LLMTimeout(f"{type(exc).__name__} after {remaining * 1000:.0f} ms") from exc
        except httpx.TransportError as exc:
            raise _Transient("connect", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"http_{response.status_code}", f"HTTP {response.status_code}: {response.text[:200]}")
        if response.status_code >= 400:
            raise LLMBadResponse(f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            payload = response.json()
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMBadResponse(f"not a chat completion: {response.text[:200]}") from exc
        if not isinstance(content, str):
            raise LLMBadResponse("chat completion without text content")
        return content


def parse_json_object(raw: str) -> dict[str, Any]:
    """A JSON object from the answer text (servers without constrained decoding may wrap it)."""
    text = raw.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
