"""ASGI plumbing shared by the two web apps (``serve-model`` and the review server)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BodyLimit", "json_too_large"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: ``(scope, max_bytes) -> (content type, body)`` of the 413 answer
Reply = Callable[[Scope, int], tuple[bytes, bytes]]


def json_too_large(scope: Scope, max_bytes: int) -> tuple[bytes, bytes]:
    """The default 413 body: JSON with ``detail`` (the fix) and a short ``message``."""
    body = {
        "detail": f"request body larger than the limit of {max_bytes} bytes; send smaller batches.",
        "message": f"request body larger than {max_bytes} bytes",
    }
    return b"application/json", json.dumps(body).encode()


class BodyLimit:
    """ASGI middleware: HTTP 413 when a request body exceeds ``max_bytes``, before any route
    parses it.

    A declared ``Content-Length`` above the limit is answered at once; otherwise the body is
    read as it arrives, refused as soon as it passes the limit, and else replayed to the app
    (nothing larger than the limit is ever buffered).

    Parameters
    ----------
    app : ASGI app
    max_bytes : int
    reply : callable, optional
        ``(scope, max_bytes) -> (content_type, body)`` of the 413 answer;
        :func:`json_too_large` by default.
    """

    def __init__(self, app: Any, max_bytes: int, reply: Reply = json_too_large) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.reply = reply

    async def _refuse(self, scope: Scope, send: Send) -> None:
        ctype, body = self.reply(scope, self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", ctype),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers") or []:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, send)
                return
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body was complete
            part = message.get("body", b"")
            total += len(part)
            if total > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(part)
            more = bool(message.get("more_body", False))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls wait for the disconnect, as usual

        await self.app(scope, replay, send)
