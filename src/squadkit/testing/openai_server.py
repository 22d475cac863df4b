"""A fake OpenAI-compatible chat completions server on 127.0.0.1, with programmable faults.

It stands in for a model provider at the system's edge: the code under test talks real HTTP
to it through litellm, so retries, timeouts and fallbacks are exercised for real. Plain
stdlib (asyncio in a background thread); it imports nothing from the package.

Usage::

    with FakeOpenAIServer() as server:           # ephemeral port, stopped on exit
        server.base_url                          # "http://127.0.0.1:PORT/v1"
        server.script(Reply.error(429, retry_after=1), Reply.ok('{"a": 1}'))
        ...                                      # scripted replies are used first, in order
        server.default = Reply.ok("hello")       # then this one (or `server.responder`)
        server.responder = lambda n, body: ...   # optional: n-th request (0-based) -> Reply
        server.request_count                     # requests received so far
        server.requests                          # their JSON bodies (and `server.headers`)
        server.received_at                       # when each arrived (time.monotonic())

`Reply` fields: `content` (assistant text), `status`, `retry_after` (seconds, sent as the
`Retry-After` header; litellm honours whole seconds from 1 to 60 and backs off otherwise),
`latency_s` (delay before answering), `until` (a `threading.Event`: the answer waits
until the test sets it, so a test drives time instead of betting on a delay), and `fault`,
one of `"hang"` (never answers until the server stops), `"malformed_json"` (a 200 whose
body is not JSON), `"truncated_stream"` (a streamed answer cut off mid-way),
`"wrong_content_type"` (a 200 with `text/html`).
Streaming (`"stream": true`) is answered as server-sent events. Usage tokens are counted as
whitespace-separated words, so tests can assert on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Fault = Literal["hang", "malformed_json", "truncated_stream", "wrong_content_type"]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Reply:
    """What the server does with one request."""

    content: str = "ok"
    status: int = 200
    retry_after: float | None = None
    latency_s: float = 0.0
    fault: Fault | None = None
    finish_reason: str = "stop"  # "length" when a real model ran out of max_tokens
    until: threading.Event | None = None  # answer only once the test sets it

    @classmethod
    def ok(
        cls,
        content: str = "ok",
        *,
        latency_s: float = 0.0,
        finish_reason: str = "stop",
        until: threading.Event | None = None,
    ) -> Reply:
        return cls(content=content, latency_s=latency_s, finish_reason=finish_reason, until=until)

    @classmethod
    def error(cls, status: int, *, retry_after: float | None = None) -> Reply:
        return cls(status=status, retry_after=retry_after)

    @classmethod
    def broken(cls, fault: Fault) -> Reply:
        return cls(fault=fault)


@dataclass
class FakeOpenAIServer:
    """Context manager running the fake provider in a background thread (see module doc)."""

    default: Reply = field(default_factory=Reply)
    responder: Callable[[int, dict[str, Any]], Reply] | None = None
    model_name: str = "fake-model"
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)  # time.monotonic() per request
    peak_in_flight: int = 0  # most requests being answered at once since the last reset
    _in_flight: int = 0
    _scripted: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stopping: asyncio.Event | None = None

    # -- control -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order, before `responder`/`default`."""
        with self._lock:
            self._scripted.extend(replies)

    def reset(self) -> None:
        """Forget scripted replies and recorded requests."""
        with self._lock:
            self._scripted.clear()
            self.requests.clear()
            self.headers.clear()
            self.received_at.clear()
            self.peak_in_flight = self._in_flight

    def __enter__(self) -> FakeOpenAIServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("fake OpenAI server did not start within 10 s")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- server ------------------------------------------------------------------------
    def _run(self, ready: threading.Event) -> None:
        asyncio.run(self._serve(ready))

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None  # noqa: S101 - always inside a task
            tasks.add(task)
            try:
                await self._connection(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass  # client went away, or the server is stopping
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(on_connect, self.host, self.port, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _next_reply(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            index = len(self.requests)
            self.requests.append(body)
            self.headers.append(headers)
            self.received_at.append(time.monotonic())
            if self._scripted:
                return self._scripted.popleft()
        if self.responder is not None:
            return self.responder(index, body)
        return self.default

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # HTTP/1.1 keep-alive: one request after another on this connection
            request_line = await reader.readline()
            if not request_line:
                return
            method, path, _ = request_line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            raw = await reader.readexactly(int(headers.get("content-length", "0")))
            if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
                await self._send(writer, 404, {"error": {"message": f"no route {path}"}})
                continue
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                await self._send(writer, 400, {"error": {"message": "body is not JSON"}})
                continue
            reply = self._next_reply(body, headers)
            with self._lock:
                self._in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            try:
                keep_open = await self._answer(writer, body, reply)
            finally:
                with self._lock:
                    self._in_flight -= 1
            if not keep_open:
                return

    async def _answer(
        self, writer: asyncio.StreamWriter, body: dict[str, Any], reply: Reply
    ) -> bool:
        """Send `reply`; False when the connection must be closed afterwards."""
        if reply.latency_s:
            await asyncio.sleep(reply.latency_s)
        # The test's thread sets a threading.Event; polling it keeps no executor thread
        # blocked on it, so the server still stops when a test forgets to release.
        while reply.until is not None and not reply.until.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if reply.fault == "hang":
            await asyncio.sleep(3600)
            return False
        if reply.status != 200:
            extra = {} if reply.retry_after is None else {"Retry-After": f"{reply.retry_after:g}"}
            message = f"fake provider error {reply.status}"
            await self._send(writer, reply.status, {"error": {"message": message}}, extra)
            return True
        if reply.fault == "malformed_json":
            await self._send_raw(
                writer, 200, b'{"id": "chatcmpl-broken", "choices": [', "application/json"
            )
            return True
        if reply.fault == "wrong_content_type":
            await self._send_raw(writer, 200, b"<html>upstream proxy error</html>", "text/html")
            return True
        if body.get("stream"):
            await self._stream(writer, reply, truncated=reply.fault == "truncated_stream")
            return reply.fault != "truncated_stream"
        await self._send(writer, 200, self._completion(body, reply))
        return True

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        content = reply.content
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        completion_words = len(content.split())
        return {
            "id": f"chatcmpl-fake-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model_name),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": completion_words,
                "total_tokens": prompt_words + completion_words,
            },
        }

    async def _stream(self, writer: asyncio.StreamWriter, reply: Reply, *, truncated: bool) -> None:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n"
        )
        writer.write(head.encode())
        words = reply.content.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            chunk = {
                "id": "chatcmpl-fake-stream",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": self.model_name,
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self._write_chunk(writer, f"data: {json.dumps(chunk)}\n\n".encode())
            if truncated and i >= len(words) // 2:
                writer.write(b'7f\r\ndata: {"id": "chatc')  # cut mid-chunk, then hang up
                await writer.drain()
                return
        done = {
            "id": "chatcmpl-fake-stream",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}],
        }
        self._write_chunk(writer, f"data: {json.dumps(done)}\n\n".encode())
        self._write_chunk(writer, b"data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    @staticmethod
    def _write_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: dict[str, Any],
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        await self._send_raw(
            writer, status, json.dumps(payload).encode(), "application/json", extra_headers
        )

    @staticmethod
    async def _send_raw(
        writer: asyncio.StreamWriter,
        status: int,
        data: bytes,
        content_type: str,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(data)}",
            *(f"{k}: {v}" for k, v in (extra_headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
