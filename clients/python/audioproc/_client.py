"""The synchronous client: ``audioproc.connect(...)`` and its streams."""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Callable, Optional, TypeVar, Union

import grpc

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
from audioproc.chain import ChainLike, UpdateLike, chain_update, to_chain
from audioproc.formats import AudioFormatLike, bytes_per_frame, to_bytes
from audioproc.v1 import audioproc_pb2 as pb
from audioproc.v1 import audioproc_pb2_grpc as pb_grpc

__all__ = ["Client", "Stream", "connect"]

T = TypeVar("T")
#: A chunk of audio: bytes in the stream's input format, or a numpy array (see to_bytes).
Chunk = Any


class _Outbox:
    """The requests after the config, handed from send()/update() to gRPC's sending thread.

    Bounded (put blocks while ``limit`` requests wait: backpressure reaches the producer).
    Until the stream is ready, what was sent is kept so that a retried call replays it; each
    call attempt reads through its own generator, and only the newest one takes requests.
    """

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self._queue: collections.deque[pb.ProcessRequest] = collections.deque()
        self._replay: list[pb.ProcessRequest] = []
        self._limit = max(1, limit)
        self._attempt = 0
        self._ready = False
        self._closed = False  # no more requests: half-close after the queue
        self._dead = False  # the stream is over: drop everything
        self.chunks_sent = 0  # chunks taken by gRPC (each once, replays not counted)

    def put(self, request: pb.ProcessRequest) -> bool:
        """Queues ``request``; False if the stream is over or closed."""
        with self._cond:
            while len(self._queue) >= self._limit and not (self._dead or self._closed):
                self._cond.wait()
            if self._dead or self._closed:
                return False
            self._queue.append(request)
            self._cond.notify_all()
            return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def kill(self) -> None:
        with self._cond:
            self._dead = True
            self._queue.clear()
            self._cond.notify_all()

    def mark_ready(self) -> None:
        with self._cond:
            self._ready = True
            self._replay.clear()

    def requests(self, config: pb.ProcessRequest) -> Iterator[pb.ProcessRequest]:
        """A new attempt's request stream: the config, the replay, then the queue."""
        with self._cond:
            self._attempt += 1
            attempt = self._attempt
            self._cond.notify_all()
        yield config
        replayed = 0
        while True:
            with self._cond:
                while True:
                    if self._dead or self._attempt != attempt:
                        return
                    if not self._ready and replayed < len(self._replay):
                        request = self._replay[replayed]
                        replayed += 1
                        break
                    if self._queue:
                        request = self._queue.popleft()
                        if request.HasField("chunk"):
                            self.chunks_sent += 1
                        if not self._ready:
                            self._replay.append(request)
                            replayed += 1
                        self._cond.notify_all()
                        break
                    if self._closed:
                        return
                    self._cond.wait()
            yield request


class Stream:
    """One Process call: feed chunks in, read processed chunks out, as they come.

    Made by Client.stream. Chunks come from the ``chunks`` iterable given there (read on a
    thread of the stream's own) or from send() calls; close() (or the iterable's end) ends the
    input. Iterating the stream yields each ProcessedChunk (audio, metrics, events; the last
    one is the tail) as it arrives; ``ready`` and ``summary`` are set as they arrive. finish()
    reads to the end and returns the StreamResult.

    Read the responses while sending (iterate on one thread, send on another, or give an
    iterable): the server answers every chunk, and unread answers stop it from reading more.
    A failure raises AudioprocError, with what was answered so far in its ``result``.

    Thread safety: send(), update(), close() and cancel() may be called from any thread,
    also while another thread iterates; iterate (or finish()) on one thread at a time.
    send() blocks while ``max_queued`` requests wait to be sent.
    """

    def __init__(
        self,
        stub: pb_grpc.AudioProcessorStub,
        config: pb.StreamConfig,
        chunks: Optional[Iterable[Chunk]],
        *,
        timeout: Optional[float],
        metadata: Optional[tuple[tuple[str, str], ...]],
        retry: Retry,
        realtime: bool,
        max_queued: int,
    ) -> None:
        self._stub = stub
        self._config = config
        self._timeout = timeout
        self._metadata = metadata
        self._retry = retry
        self._realtime = realtime
        self._outbox = _Outbox(max_queued)
        self._collector = Collector()
        self._lock = threading.Lock()
        self._sequence = 0
        self._frames_sent = 0
        self._started: Optional[float] = None
        self._frame_bytes = bytes_per_frame(config.input)
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._error: Optional[BaseException] = None
        self._done = False
        self._attempt = 1
        self._pending: collections.deque[pb.ProcessedChunk] = collections.deque()
        self._ready_event = threading.Event()
        self._reader_active = False
        self._responses = self._read()
        self._call = self._start()
        self._feeder: Optional[threading.Thread] = None
        if chunks is not None:
            self._feeder = threading.Thread(
                target=self._feed, args=(chunks,), name="audioproc-feeder", daemon=True
            )
            self._feeder.start()

    # ---- input

    @property
    def input_format(self) -> pb.AudioFormat:
        return self._config.input

    def send(self, chunk: Chunk) -> None:
        """Sends one chunk (bytes in the input format, or a numpy array). Blocks while the
        stream's queue is full. Raises AudioprocError if the stream has ended."""
        data = to_bytes(chunk, self._config.input.encoding)
        if self._realtime:
            self._pace()
        with self._lock:
            self._sequence += 1
            request = pb.ProcessRequest(chunk=pb.AudioChunk(data=data, sequence=self._sequence))
            if self._frame_bytes:
                self._frames_sent += len(data) // self._frame_bytes
        if not self._outbox.put(request):
            self._raise_ended()

    def update(self, update: UpdateLike, *, index: Optional[int] = None) -> pb.ChainUpdate:
        """Changes parameters mid-stream, between two chunks. ``update``: a ChainUpdate, a
        chain whose processors are matched to the stream's by name (``"gain:gain_db=-6"``)
        or placed from ``index`` on, or ``{position: processor}``. By name needs the stream to
        be ready (waits for it). The result comes back as an UpdateResult event. Returns the
        ChainUpdate sent."""
        resolved = None
        if index is None and not isinstance(update, (pb.ChainUpdate, Mapping)):
            resolved = self.wait_ready().chain
        message = chain_update(update, index=index, chain=resolved)
        if not self._outbox.put(pb.ProcessRequest(update=message)):
            self._raise_ended()
        return message

    def close(self) -> None:
        """Ends the input (half-close): the server flushes the tail and sends the summary."""
        self._outbox.close()

    def cancel(self) -> None:
        """Abandons the stream (CANCELLED)."""
        self._outbox.kill()
        self._call.cancel()

    def _pace(self) -> None:
        rate = self._config.input.sample_rate_hz
        if self._started is None:
            self._started = time.monotonic()
        due = self._started + self._frames_sent / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _feed(self, chunks: Iterable[Chunk]) -> None:
        try:
            for chunk in chunks:
                self.send(chunk)
        except AudioprocError:
            return  # the stream ended; the reader reports why
        except BaseException as error:  # the source failed: end the stream with its error
            self._error = error
            self.cancel()
            return
        self.close()

    def _raise_ended(self) -> None:
        raise AudioprocError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the stream's input is closed or the stream has ended",
            self._collector.result,
        )

    # ---- output

    @property
    def ready(self) -> Optional[pb.StreamReady]:
        """The StreamReady (resolved chain, output format, latency), once it has come."""
        return self._collector.result.ready

    @property
    def summary(self) -> Optional[pb.StreamSummary]:
        """The StreamSummary, once the stream has ended."""
        return self._collector.result.summary

    @property
    def result(self) -> StreamResult:
        """What has been answered so far (complete after the end)."""
        return self._collector.result

    def wait_ready(self) -> pb.StreamReady:
        """Waits for the StreamReady (it comes before any chunk). Raises AudioprocError if
        the stream fails first."""
        if self.ready is None and self._reader_active:
            self._ready_event.wait()  # another thread reads the responses
        while self.ready is None and not self._done:
            try:
                item = next(self._responses)
            except StopIteration:
                break
            if item is not None:
                self._pending.append(item)
        if self.ready is None:
            raise AudioprocError(grpc.StatusCode.INTERNAL, "the stream ended without a ready",
                                 self._collector.result)
        return self.ready

    def __iter__(self) -> Iterator[pb.ProcessedChunk]:
        while self._pending:
            yield self._pending.popleft()
        self._reader_active = True
        try:
            for item in self._responses:
                if item is not None:
                    yield item
        finally:
            self._reader_active = False

    def finish(self) -> StreamResult:
        """Ends the input if no iterable feeds it, reads every response, returns the result."""
        if self._feeder is None:
            self.close()
        for _ in self:
            pass
        return self._collector.result

    def __enter__(self) -> "Stream":
        return self

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if not self._done:
            self.cancel()

    def _start(self) -> Any:
        timeout = None
        if self._deadline is not None:
            timeout = max(0.0, self._deadline - time.monotonic())
        return self._stub.Process(
            self._outbox.requests(pb.ProcessRequest(config=self._config)),
            timeout=timeout,
            metadata=self._metadata,
        )

    def _read(self) -> Iterator[Optional[pb.ProcessedChunk]]:
        """The chunks as they come; None for the ready (so that wait_ready can stop there)."""
        collector = self._collector
        while True:
            try:
                for response in self._call:
                    chunk = collector.add(response)
                    if response.HasField("ready"):
                        self._outbox.mark_ready()
                        self._ready_event.set()
                        yield None
                    elif chunk is not None:
                        yield chunk
                break
            except grpc.RpcError as error:
                code, details = error.code(), error.details() or ""
                if self._error is not None:
                    self._end(False)
                    raise self._error from None
                if (
                    code == grpc.StatusCode.UNAVAILABLE
                    and collector.result.ready is None
                    and self._attempt < self._retry.attempts
                ):
                    time.sleep(self._retry.backoff(self._attempt))
                    self._attempt += 1
                    self._call = self._start()
                    continue
                self._end(False)
                raise AudioprocError(code, details, collector.result) from None
        self._end(True)
        if self._error is not None:
            raise self._error

    def _end(self, ok: bool) -> None:
        self._done = True
        self._ready_event.set()
        self._outbox.kill()
        self._collector.finish(ok, self._outbox.chunks_sent)


def _unary(
    method: Callable[..., T],
    request: Any,
    *,
    timeout: Optional[float],
    metadata: Optional[tuple[tuple[str, str], ...]],
    retry: Retry,
) -> T:
    attempt = 1
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return method(request, timeout=remaining, metadata=metadata)
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.UNAVAILABLE and attempt < retry.attempts:
                time.sleep(retry.backoff(attempt))
                attempt += 1
                continue
            raise AudioprocError(code, error.details() or "") from None


def _file_request(
    file: Union[bytes, str, "os.PathLike[str]"],
    chain: ChainLike,
    output: Optional[pb.FileFormat],
    dither: bool,
) -> pb.ProcessFileRequest:
    if not isinstance(file, bytes):
        with open(os.fspath(file), "rb") as f:
            file = f.read()
    request = pb.ProcessFileRequest(file=file, chain=to_chain(chain))
    if output is not None:
        request.output.CopyFrom(output)
    if dither:
        request.dither = pb.DITHER_TPDF
    return request


class Client:
    """A connection to an audioproc server (made by connect); close() when done, or use it as
    a context manager.

    Thread safety: any number of threads may use one Client and run streams at once (they
    share one HTTP/2 connection).
    """

    def __init__(
        self,
        channel: grpc.Channel,
        credentials: Credentials,
        *,
        timeout: Optional[float] = None,
        retry: RetryLike = None,
    ) -> None:
        self._channel = channel
        self._stub = pb_grpc.AudioProcessorStub(channel)
        self._metadata = credentials.metadata()
        self._timeout = timeout
        self._retry = to_retry(retry)

    @property
    def stub(self) -> pb_grpc.AudioProcessorStub:
        """The generated stub, for what this client does not wrap."""
        return self._stub

    def stream(
        self,
        config: ConfigLike,
        chunks: Optional[Iterable[Chunk]] = None,
        *,
        format: Optional[AudioFormatLike] = None,
        stream_id: Optional[str] = None,
        realtime: bool = False,
        timeout: Optional[float] = None,
        max_queued: int = 8,
    ) -> Stream:
        """Starts a Process stream. ``config``: a StreamConfig or a chain (one-line or JSON
        text, ProcessorSpec or a list of them); ``format``: the input format (e.g.
        ``"s16le:16000:1"``), unless the config sets it. ``chunks``: an iterable of chunks
        (bytes or numpy arrays), read on a thread as the stream can take them; without it,
        send() them. ``realtime``: pace chunks at the audio's rate, as a live source would.
        ``timeout``: for the whole call (default: the client's). Raises ValueError for a
        config that does not parse; everything after that as AudioprocError."""
        return Stream(
            self._stub,
            make_config(config, format, stream_id=stream_id),
            chunks,
            timeout=self._timeout if timeout is None else timeout,
            metadata=self._metadata,
            retry=self._retry,
            realtime=realtime,
            max_queued=max_queued,
        )

    def process(
        self,
        config: ConfigLike,
        audio: Union[bytes, Any],
        *,
        format: Optional[AudioFormatLike] = None,
        chunk_ms: int = 20,
        chunk_frames: int = 0,
        timeout: Optional[float] = None,
    ) -> StreamResult:
        """Streams ``audio`` (bytes, or a PcmAudio, whose format is used) in chunks of
        ``chunk_frames`` frames (or ``chunk_ms`` ms) and returns the whole result."""
        from audioproc.wav import PcmAudio

        if isinstance(audio, PcmAudio):
            format = format or audio.audio_format()
            audio = audio.data
        full = make_config(config, format)
        rate, frame = full.input.sample_rate_hz, bytes_per_frame(full.input)
        if chunk_frames <= 0:
            if chunk_ms <= 0:
                raise ValueError("chunk_ms or chunk_frames must be positive")
            chunk_frames = max(1, rate * chunk_ms // 1000)
        data = to_bytes(audio, full.input.encoding)
        step = chunk_frames * frame
        chunks = (data[i:i + step] for i in range(0, len(data), step))
        return self.stream(full, chunks, timeout=timeout).finish()

    def process_file(
        self,
        file: Union[bytes, str, "os.PathLike[str]"],
        chain: ChainLike = (),
        *,
        output: Optional[pb.FileFormat] = None,
        dither: bool = False,
        timeout: Optional[float] = None,
    ) -> pb.ProcessFileResponse:
        """One encoded file (bytes or a path) through ``chain``: ProcessFile. The response's
        ``file`` is the processed file, ``summary`` its StreamSummary."""
        return _unary(
            self._stub.ProcessFile,
            _file_request(file, chain, output, dither),
            timeout=self._timeout if timeout is None else timeout,
            metadata=self._metadata,
            retry=self._retry,
        )

    def list_processors(self, *, timeout: Optional[float] = None) -> pb.ListProcessorsResponse:
        """Every processor the server offers, with each parameter's type, unit, default and
        range."""
        return _unary(
            self._stub.ListProcessors,
            pb.ListProcessorsRequest(),
            timeout=self._timeout if timeout is None else timeout,
            metadata=self._metadata,
            retry=self._retry,
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()


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
    """A Client for the server at ``addr`` (host:port).

    TLS is on with ``tls=True`` (system roots) or ``ca`` (PEM bytes or a file of the roots to
    verify the server with); ``cert`` and ``key`` (PEM bytes or files) present a client
    certificate (mutual TLS). ``token`` is sent as ``authorization: Bearer <token>``.
    ``timeout``: the default deadline of each call, in seconds (None: none). ``retry``:
    retry of UNAVAILABLE (see Retry). ``options``: extra gRPC channel arguments. The channel
    connects lazily: an unreachable server shows on the first call.
    """
    credentials = Credentials.make(tls=tls, ca=ca, cert=cert, key=key, token=token)
    channel_options = CHANNEL_OPTIONS + list(options)
    secure = credentials.channel_credentials()
    if secure is None:
        channel = grpc.insecure_channel(addr, channel_options)
    else:
        channel = grpc.secure_channel(addr, secure, channel_options)
    return Client(channel, credentials, timeout=timeout, retry=retry)
