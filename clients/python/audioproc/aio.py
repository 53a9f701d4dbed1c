"""The asyncio client: ``audioproc.aio.connect(...)``, the same shape as the sync one over
grpc.aio. Chunks come from an async iterator (or a plain iterable) or ``await send()``;
``async for`` over the stream yields processed chunks as they come.

    async with audioproc.aio.connect("localhost:50051") as client:
        async with client.stream("gain,limiter", mic(), format="s16le:16000:1") as stream:
            async for chunk in stream:
                if chunk.metrics.sequence == 100:
                    await stream.update("gain:gain_db=-6")
        print(stream.summary)
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import Any, Callable, Optional, TypeVar, Union

import grpc
import grpc.aio

from audioproc._common import (
    CHANNEL_OPTIONS,
    Collector,
    ConfigLike,
    Credentials,
    PemLike,
    Retry,
    RetryLike,
    make_config,
    to_retry,
)
from audioproc._result import AudioprocError, StreamResult
from audioproc.chain import ChainLike, UpdateLike, chain_update
from audioproc.formats import AudioFormatLike, bytes_per_frame, to_bytes
from audioproc.v1 import audioproc_pb2 as pb
from audioproc.v1 import audioproc_pb2_grpc as pb_grpc

__all__ = ["Client", "Stream", "connect"]

T = TypeVar("T")
Chunk = Any


class _Outbox:
    """As the sync client's: bounded, holding what a retried or resumed call sends again, one
    live attempt at a time."""

    def __init__(self, limit: int) -> None:
        self._cond = asyncio.Condition()
        self._queue: collections.deque[pb.ProcessRequest] = collections.deque()
        self._held: list[pb.ProcessRequest] = []
        self._cursor = 0
        self._hold = True
        self._limit = max(1, limit)
        self._attempt = 0
        self._closed = False
        self._dead = False
        self.chunks_sent = 0

    @property
    def dead(self) -> bool:
        return self._dead

    async def put(self, request: pb.ProcessRequest) -> bool:
        async with self._cond:
            await self._cond.wait_for(
                lambda: len(self._queue) < self._limit or self._dead or self._closed
            )
            if self._dead or self._closed:
                return False
            self._queue.append(request)
            self._cond.notify_all()
            return True

    async def close(self) -> None:
        async with self._cond:
            self._closed = True
            self._cond.notify_all()

    async def kill(self) -> None:
        async with self._cond:
            self._dead = True
            self._queue.clear()
            self._cond.notify_all()

    def mark_ready(self, hold: bool) -> None:
        self._hold = hold
        if not hold:
            self._held.clear()
            self._cursor = 0

    def checkpoint(self, sequence: int) -> None:
        covered = 0
        for i, request in enumerate(self._held):
            if request.HasField("chunk") and request.chunk.sequence <= sequence:
                covered = i + 1
        del self._held[:covered]
        self._cursor = max(0, self._cursor - covered)

    async def requests(self, first: pb.ProcessRequest) -> AsyncIterator[pb.ProcessRequest]:
        async with self._cond:
            self._attempt += 1
            attempt = self._attempt
            self._cursor = 0
            self._cond.notify_all()
        yield first
        while True:
            async with self._cond:
                while True:
                    if self._dead or self._attempt != attempt:
                        return
                    if self._cursor < len(self._held):
                        request = self._held[self._cursor]
                        self._cursor += 1
                        break
                    if self._queue:
                        request = self._queue.popleft()
                        if request.HasField("chunk"):
                            self.chunks_sent += 1
                        if self._hold:
                            self._held.append(request)
                            self._cursor += 1
                        self._cond.notify_all()
                        break
                    if self._closed:
                        return
                    await self._cond.wait()
            yield request


class Stream:
    """One Process call over asyncio; see audioproc.Stream. Made by Client.stream (which
    starts it: use ``async with`` or await finish()).

    Thread safety: none; use it from the event loop that made it (tasks of that loop may send
    and update while another task iterates).
    """

    def __init__(
        self,
        stub: pb_grpc.AudioProcessorStub,
        config: pb.StreamConfig,
        chunks: Optional[Union[AsyncIterable[Chunk], Iterable[Chunk]]],
        *,
        timeout: Optional[float],
        metadata: Optional[tuple[tuple[str, str], ...]],
        retry: Retry,
        realtime: bool,
        max_queued: int,
        resume: bool = True,
        open_channel: Optional[Callable[[], grpc.aio.Channel]] = None,
    ) -> None:
        self._stub = stub
        self._config = config
        self._metadata = metadata
        self._retry = retry
        self._realtime = realtime
        self._outbox = _Outbox(max_queued)
        self._collector = Collector(resume=resume and config.checkpoint_interval_ms > 0)
        self._open_channel = open_channel
        self._channel: Optional[grpc.aio.Channel] = None
        self._call_ready = False
        self._sequence = 0
        self._frames_sent = 0
        self._started: Optional[float] = None
        self._frame_bytes = bytes_per_frame(config.input)
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._error: Optional[BaseException] = None
        self._done = False
        self._attempt = 1
        self._pending: collections.deque[pb.ProcessedChunk] = collections.deque()
        self._ready_event = asyncio.Event()
        self._reader_active = False
        self._responses = self._read()
        self._call = self._start()
        self._has_feeder = chunks is not None
        self._feeder: Optional[asyncio.Task[None]] = None
        if chunks is not None:
            self._feeder = asyncio.get_running_loop().create_task(self._feed(chunks))

    @property
    def input_format(self) -> pb.AudioFormat:
        return self._config.input

    @property
    def ready(self) -> Optional[pb.StreamReady]:
        return self._collector.result.ready

    @property
    def summary(self) -> Optional[pb.StreamSummary]:
        return self._collector.result.summary

    @property
    def result(self) -> StreamResult:
        return self._collector.result

    @property
    def resumes(self) -> int:
        """How many times the stream went on in a resumed call (see audioproc.Stream)."""
        return self._collector.result.resumes

    async def send(self, chunk: Chunk) -> None:
        """Sends one chunk (bytes or a numpy array); waits while the queue is full."""
        data = to_bytes(chunk, self._config.input.encoding)
        if self._realtime:
            rate = self._config.input.sample_rate_hz
            if self._started is None:
                self._started = time.monotonic()
            delay = self._started + self._frames_sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        self._sequence += 1
        if self._frame_bytes:
            self._frames_sent += len(data) // self._frame_bytes
        request = pb.ProcessRequest(chunk=pb.AudioChunk(data=data, sequence=self._sequence))
        if not await self._outbox.put(request):
            self._raise_ended()

    async def update(self, update: UpdateLike, *, index: Optional[int] = None) -> pb.ChainUpdate:
        """Changes parameters mid-stream; see audioproc.Stream.update."""
        resolved = None
        if index is None and not isinstance(update, (pb.ChainUpdate, Mapping)):
            resolved = (await self.wait_ready()).chain
        message = chain_update(update, index=index, chain=resolved)
        if not await self._outbox.put(pb.ProcessRequest(update=message)):
            self._raise_ended()
        return message

    async def close(self) -> None:
        """Ends the input (half-close)."""
        await self._outbox.close()

    async def cancel(self) -> None:
        await self._outbox.kill()
        self._call.cancel()
        await self._close_channel()
        if self._feeder is not None and not self._feeder.done():
            self._feeder.cancel()

    async def _feed(self, chunks: Union[AsyncIterable[Chunk], Iterable[Chunk]]) -> None:
        try:
            if isinstance(chunks, AsyncIterable):
                async for chunk in chunks:
                    await self.send(chunk)
            else:
                for chunk in chunks:
                    await self.send(chunk)
        except AudioprocError:
            return
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            self._error = error
            await self._outbox.kill()
            self._call.cancel()
            return
        await self.close()

    def _raise_ended(self) -> None:
        raise AudioprocError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the stream's input is closed or the stream has ended",
            self._collector.result,
        )

    async def wait_ready(self) -> pb.StreamReady:
        """Waits for the StreamReady. Raises AudioprocError if the stream fails first."""
        if self.ready is None and self._reader_active:
            await self._ready_event.wait()
        while self.ready is None and not self._done:
            try:
                item = await self._responses.__anext__()
            except StopAsyncIteration:
                break
            if item is not None:
                self._pending.append(item)
        if self.ready is None:
            raise AudioprocError(grpc.StatusCode.INTERNAL, "the stream ended without a ready",
                                 self._collector.result)
        return self.ready

    async def __aiter__(self) -> AsyncIterator[pb.ProcessedChunk]:
        while self._pending:
            yield self._pending.popleft()
        self._reader_active = True
        try:
            async for item in self._responses:
                if item is not None:
                    yield item
        finally:
            self._reader_active = False

    async def finish(self) -> StreamResult:
        """Ends the input if no iterable feeds it, reads every response, returns the result."""
        if not self._has_feeder:
            await self.close()
        async for _ in self:
            pass
        return self._collector.result

    async def __aenter__(self) -> "Stream":
        return self

    async def __aexit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if not self._done:
            await self.cancel()

    def _start(self) -> Any:
        """A call: with the config, or resuming from the checkpoint held on a new channel
        (the previous one closed by _close_channel)."""
        timeout = None
        if self._deadline is not None:
            timeout = max(0.0, self._deadline - time.monotonic())
        self._call_ready = False
        checkpoint = self._collector.checkpoint
        stub, first = self._stub, pb.ProcessRequest(config=self._config)
        if checkpoint is not None:
            first = pb.ProcessRequest(resume=pb.ResumeStream(token=checkpoint.token))
            if self._open_channel is not None:
                self._channel = self._open_channel()
                stub = pb_grpc.AudioProcessorStub(self._channel)
        call = stub.Process(self._outbox.requests(first), timeout=timeout, metadata=self._metadata)
        if self._outbox.dead:  # cancelled while a retry or resume waited: end as CANCELLED
            call.cancel()
        return call

    async def _close_channel(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close()

    async def _read(self) -> AsyncIterator[Optional[pb.ProcessedChunk]]:
        collector = self._collector
        while True:
            try:
                async for response in self._call:
                    chunk = collector.add(response)
                    if response.HasField("ready"):
                        self._call_ready = True
                        if not collector.result.resumes:
                            self._outbox.mark_ready(collector.resume and response.ready.resumable)
                            self._ready_event.set()
                            yield None
                    elif response.HasField("checkpoint"):
                        self._outbox.checkpoint(response.checkpoint.sequence)
                    elif chunk is not None:
                        yield chunk
                break
            except grpc.RpcError as error:
                code, details = error.code(), error.details() or ""
                if self._error is not None:
                    await self._end(False)
                    raise self._error from None
                # Before its ready, a call is retried while UNAVAILABLE; a resumed one also
                # when the server cancels it (a draining server's shutdown cancels the calls
                # that reached it late).
                retry = code == grpc.StatusCode.UNAVAILABLE or (
                    code == grpc.StatusCode.CANCELLED
                    and collector.result.resumes > 0
                    and not self._outbox.dead
                )
                if retry and not self._call_ready and self._attempt < self._retry.attempts:
                    await asyncio.sleep(self._retry.backoff(self._attempt))
                    self._attempt += 1
                    await self._close_channel()
                    self._call = self._start()
                    continue
                if collector.can_resume(code, self._call_ready):
                    collector.result.resumes += 1
                    self._attempt = 1
                    await self._close_channel()
                    self._call = self._start()
                    continue
                await self._end(False)
                if collector.result.resumes and not self._call_ready:
                    details = f"resuming the stream: {details}"
                raise AudioprocError(code, details, collector.result) from None
            except AudioprocError:  # resumed from another point than the checkpoint
                self._call.cancel()
                await self._end(False)
                raise
            except asyncio.CancelledError:
                if self._error is not None:
                    await self._end(False)
                    raise self._error from None
                raise
        await self._end(True)
        if self._error is not None:
            raise self._error

    async def _end(self, ok: bool) -> None:
        self._done = True
        self._ready_event.set()
        await self._outbox.kill()
        await self._close_channel()
        self._collector.finish(ok, self._outbox.chunks_sent)


async def _unary(
    method: Callable[..., Any],
    request: Any,
    *,
    timeout: Optional[float],
    metadata: Optional[tuple[tuple[str, str], ...]],
    retry: Retry,
) -> Any:
    attempt = 1
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return await method(request, timeout=remaining, metadata=metadata)
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.UNAVAILABLE and attempt < retry.attempts:
                await asyncio.sleep(retry.backoff(attempt))
                attempt += 1
                continue
            raise AudioprocError(code, error.details() or "") from None


class Client:
    """A connection to an audioproc server over asyncio (made by audioproc.aio.connect)."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        credentials: Credentials,
        *,
        timeout: Optional[float] = None,
        retry: RetryLike = None,
        open_channel: Optional[Callable[[], grpc.aio.Channel]] = None,
    ) -> None:
        self._channel = channel
        self._stub = pb_grpc.AudioProcessorStub(channel)
        self._metadata = credentials.metadata()
        self._timeout = timeout
        self._retry = to_retry(retry)
        self._open_channel = open_channel  # for a resumed stream (None: resume on `channel`)

    @property
    def stub(self) -> pb_grpc.AudioProcessorStub:
        return self._stub

    def stream(
        self,
        config: ConfigLike,
        chunks: Optional[Union[AsyncIterable[Chunk], Iterable[Chunk]]] = None,
        *,
        format: Optional[AudioFormatLike] = None,
        stream_id: Optional[str] = None,
        realtime: bool = False,
        timeout: Optional[float] = None,
        max_queued: int = 8,
        checkpoint_interval_ms: int = 0,
        resume: bool = True,
    ) -> Stream:
        """Starts a Process stream (call from a running event loop); see
        audioproc.Client.stream (resume included). ``chunks`` may be an async iterator."""
        full = make_config(config, format, stream_id=stream_id)
        if checkpoint_interval_ms > 0:
            full.checkpoint_interval_ms = checkpoint_interval_ms
        return Stream(
            self._stub,
            full,
            chunks,
            timeout=self._timeout if timeout is None else timeout,
            metadata=self._metadata,
            retry=self._retry,
            realtime=realtime,
            max_queued=max_queued,
            resume=resume,
            open_channel=self._open_channel,
        )

    async def process_file(
        self,
        file: Union[bytes, str, "os.PathLike[str]"],
        chain: ChainLike = (),
        *,
        output: Optional[pb.FileFormat] = None,
        dither: bool = False,
        timeout: Optional[float] = None,
    ) -> pb.ProcessFileResponse:
        """One encoded file through ``chain`` (ProcessFile)."""
        from audioproc._client import _file_request

        result: pb.ProcessFileResponse = await _unary(
            self._stub.ProcessFile,
            _file_request(file, chain, output, dither),
            timeout=self._timeout if timeout is None else timeout,
            metadata=self._metadata,
            retry=self._retry,
        )
        return result

    async def list_processors(
        self, *, timeout: Optional[float] = None
    ) -> pb.ListProcessorsResponse:
        """Every processor the server offers (ListProcessors)."""
        result: pb.ListProcessorsResponse = await _unary(
            self._stub.ListProcessors,
            pb.ListProcessorsRequest(),
            timeout=self._timeout if timeout is None else timeout,
            metadata=self._metadata,
            retry=self._retry,
        )
        return result

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.close()


def connect(
    addr: str = "localhost:50051",
    *,
    tls: bool = False,
    ca: Optional[PemLike] = None,
    cert: Optional[PemLike] = None,
    key: Optional[PemLike] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    retry: RetryLike = None,
    options: Iterable[tuple[str, Any]] = (),
) -> Client:
    """An asyncio Client for ``addr``; the arguments are audioproc.connect's."""
    credentials = Credentials.make(tls=tls, ca=ca, cert=cert, key=key, token=token)
    channel_options = CHANNEL_OPTIONS + list(options)
    secure = credentials.channel_credentials()

    def open_channel() -> grpc.aio.Channel:
        if secure is None:
            return grpc.aio.insecure_channel(addr, channel_options)
        return grpc.aio.secure_channel(addr, secure, channel_options)

    return Client(open_channel(), credentials, timeout=timeout, retry=retry,
                  open_channel=open_channel)
