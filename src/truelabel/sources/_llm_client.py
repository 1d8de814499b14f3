"""A small client for OpenAI-compatible ``/chat/completions`` endpoints (httpx).

Retries timeouts, connection errors, 429 and 5xx with exponential backoff (honouring a
short ``Retry-After``); a 200 whose body is not a chat completion counts as a failure
and is retried too. Configuration errors (401, 403, 404) are raised as
:class:`FatalEndpointError` at once, since retrying cannot fix them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["CallOutcome", "ChatClient", "FatalEndpointError", "UnsupportedParameter"]

logger = logging.getLogger(__name__)


class FatalEndpointError(Exception):
    """The endpoint refused the request in a way retrying cannot fix (auth, wrong URL)."""


class UnsupportedParameter(Exception):
    """HTTP 400 that names a request option (response_format, logprobs) the server lacks."""


@dataclass
class CallOutcome:
    """One call's result: the parsed response, or the last error after the retries."""

    response: dict[str, Any] | None
    error: str | None
    attempts: int


def _valid_completion(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    msg = choices[0].get("message")
    return isinstance(msg, dict) and isinstance(msg.get("content"), str | None)


class ChatClient:
    """POST chat completions with retries.

    Parameters
    ----------
    base_url : str
        E.g. ``http://127.0.0.1:8080/v1`` (``/chat/completions`` is appended).
    api_key : str, optional
        Sent as ``Authorization: Bearer …``.
    timeout : float
        Seconds per request.
    max_retries : int
        Extra attempts after the first on retryable failures.
    backoff : float
        First wait in seconds; doubles each retry (capped at 30 s).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.max_retries = max_retries
        self.backoff = backoff
        self._http = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def close(self) -> None:
        self._http.close()

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.backoff * (2**attempt), 30.0)
        if retry_after:
            try:
                delay = min(max(float(retry_after), delay), 30.0)
            except ValueError:
                pass
        time.sleep(delay)

    def post(self, payload: dict[str, Any]) -> CallOutcome:
        """Send one request; retry what can be retried.

        Raises
        ------
        FatalEndpointError
            401/403/404.
        UnsupportedParameter
            400 naming ``response_format``, ``json_schema``, ``grammar`` or ``logprobs``.
        """
        error = "no attempt"
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                r = self._http.post(self.url, json=payload)
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.TransportError as exc:
                error = f"connection error: {type(exc).__name__}: {exc}"
            else:
                if r.status_code == 200:
                    try:
                        body = r.json()
                    except ValueError:
                        body = None
                    if _valid_completion(body):
                        return CallOutcome(response=body, error=None, attempts=attempt + 1)
                    error = f"HTTP 200 but not a chat completion: {r.text[:120]!r}"
                elif r.status_code in (401, 403, 404):
                    raise FatalEndpointError(
                        f"{self.url} answered HTTP {r.status_code}: {r.text[:200]!r}"
                    )
                elif r.status_code == 400:
                    text = r.text.lower()
                    for opt in ("response_format", "json_schema", "grammar", "logprobs"):
                        if opt in text:
                            raise UnsupportedParameter(opt)
                    return CallOutcome(None, f"HTTP 400: {r.text[:200]!r}", attempt + 1)
                elif r.status_code == 429 or r.status_code >= 500:
                    error = f"HTTP {r.status_code}"
                    retry_after = r.headers.get("retry-after")
                else:
                    return CallOutcome(None, f"HTTP {r.status_code}: {r.text[:200]!r}", attempt + 1)
            if attempt < self.max_retries:
                logger.info(
                    "LLM call failed (%s); retry %d/%d", error, attempt + 1, self.max_retries
                )
                self._wait(attempt, retry_after)
        return CallOutcome(response=None, error=error, attempts=self.max_retries + 1)
