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
    """The requests after the first message, handed from send()/update() to gRPC's sending
    thread.

    Bounded (put blocks while ``limit`` requests wait: backpressure reaches the producer).
    What gRPC takes is held while a new call may need it again: until the stream is ready (a
    retried call replays it) and, on a resumable stream, until a checkpoint covers it (a
    resumed call resends it). Each call attempt reads through its own generator (the held
    requests, then the queue), and only the newest one takes requests.
    """

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self._queue: collections.deque[pb.ProcessRequest] = collections.deque()
        self._held: list[pb.ProcessRequest] = []
        self._cursor = 0  # the next held request the newest attempt (re)sends
        self._hold = True
        self._limit = max(1, limit)
        self._attempt = 0
        self._closed = False  # no more requests: half-close after the queue
        self._dead = False  # the stream is over: drop everything
        self.chunks_sent = 0  # chunks taken by gRPC (each once, resends not counted)

    @property
    def dead(self) -> bool:
        return self._dead

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

    def mark_ready(self, hold: bool) -> None:
        """The stream is ready; ``hold``: it is resumable (keep requests for a resume)."""
        with self._cond:
            self._hold = hold
            if not hold:
                self._held.clear()
                self._cursor = 0

    def checkpoint(self, sequence: int) -> None:
        """Drops what a checkpoint after chunk ``sequence`` covers: the chunks up to it and
        the updates sent before them."""
        with self._cond:
            covered = 0
            for i, request in enumerate(self._held):
                if request.HasField("chunk") and request.chunk.sequence <= sequence:
                    covered = i + 1
            del self._held[:covered]
            self._cursor = max(0, self._cursor - covered)

    def requests(self, first: pb.ProcessRequest) -> Iterator[pb.ProcessRequest]:
        """A new attempt's request stream: ``first`` (config or resume), what is held, then
        the queue."""
        with self._cond:
            self._attempt += 1
            attempt = self._attempt
            self._cursor = 0
            self._cond.notify_all()
        yield first
        while True:
            with self._cond:
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

    Resume: on a stream whose config sets ``checkpoint_interval_ms`` (and whose ``ready``
    says ``resumable``), the stream keeps the server's last checkpoint and what was sent
    after it. If the call then ends UNAVAILABLE (the server drains), it goes on in a new call
    on a new channel to the same target: ``resume`` with the checkpoint's token, the requests
    after it again, then the rest; answers already returned are not returned twice. The
    caller sees one stream; ``resumes`` counts the resumed calls.

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
        resume: bool = True,
        open_channel: Optional[Callable[[], grpc.Channel]] = None,
    ) -> None:
        self._stub = stub
        self._config = config
        self._timeout = timeout
        self._metadata = metadata
        self._retry = retry
        self._realtime = realtime
        self._outbox = _Outbox(max_queued)
        self._collector = Collector(resume=resume and config.checkpoint_interval_ms > 0)
        self._open_channel = open_channel
        self._channel: Optional[grpc.Channel] = None  # the resumed call's, if it opened one
        self._call_ready = False
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
        self._close_channel()

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

    @property
    def resumes(self) -> int:
        """How many times the stream went on in a resumed call (see the class's doc)."""
        return self._collector.result.resumes

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
        """A call: with the config, or (once a checkpoint is held) resuming from it on a new
        channel, so that the target's load balancing may pick another server."""
        timeout = None
        if self._deadline is not None:
            timeout = max(0.0, self._deadline - time.monotonic())
        self._call_ready = False
        checkpoint = self._collector.checkpoint
        stub, first = self._stub, pb.ProcessRequest(config=self._config)
        if checkpoint is not None:
            first = pb.ProcessRequest(resume=pb.ResumeStream(token=checkpoint.token))
            if self._open_channel is not None:
                self._close_channel()
                self._channel = self._open_channel()
                stub = pb_grpc.AudioProcessorStub(self._channel)
        call = stub.Process(self._outbox.requests(first), timeout=timeout, metadata=self._metadata)
        if self._outbox.dead:  # cancelled while a retry or resume waited: end as CANCELLED
            call.cancel()
        return call

    def _close_channel(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def _read(self) -> Iterator[Optional[pb.ProcessedChunk]]:
        """The chunks as they come; None for the ready (so that wait_ready can stop there)."""
        collector = self._collector
        while True:
            try:
                for response in self._call:
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
                    self._end(False)
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
                    time.sleep(self._retry.backoff(self._attempt))
                    self._attempt += 1
                    self._call = self._start()
                    continue
                if collector.can_resume(code, self._call_ready):
                    collector.result.resumes += 1
                    self._attempt = 1
                    self._call = self._start()
                    continue
                self._end(False)
                if collector.result.resumes and not self._call_ready:
                    details = f"resuming the stream: {details}"
                raise AudioprocError(code, details, collector.result) from None
            except AudioprocError:  # resumed from another point than the checkpoint
                self._call.cancel()
                self._end(False)
                raise
        self._end(True)
        if self._error is not None:
            raise self._error

    def _end(self, ok: bool) -> None:
        self._done = True
        self._ready_event.set()
        self._outbox.kill()
        self._close_channel()
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
        open_channel: Optional[Callable[[], grpc.Channel]] = None,
    ) -> None:
        self._channel = channel
        self._stub = pb_grpc.AudioProcessorStub(channel)
        self._metadata = credentials.metadata()
        self._timeout = timeout
        self._retry = to_retry(retry)
        # A new channel to the same target, for a resumed stream (None: resume on `channel`).
        self._open_channel = open_channel

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
        checkpoint_interval_ms: int = 0,
        resume: bool = True,
    ) -> Stream:
        """Starts a Process stream. ``config``: a StreamConfig or a chain (one-line or JSON
        text, ProcessorSpec or a list of them); ``format``: the input format (e.g.
        ``"s16le:16000:1"``), unless the config sets it. ``chunks``: an iterable of chunks
        (bytes or numpy arrays), read on a thread as the stream can take them; without it,
        send() them. ``realtime``: pace chunks at the audio's rate, as a live source would.
        ``timeout``: for the whole call (default: the client's, resumed calls included).
        ``checkpoint_interval_ms`` (or the config's): ask for a checkpoint after every that
        many ms of audio, and resume the stream from the last one when its server drains
        (see Stream), unless ``resume`` is False. Raises ValueError for a config that does
        not parse; everything after that as AudioprocError."""
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

    def process(
        self,
        config: ConfigLike,
        audio: Union[bytes, Any],
        *,
        format: Optional[AudioFormatLike] = None,
        chunk_ms: int = 20,
        chunk_frames: int = 0,
        timeout: Optional[float] = None,
        checkpoint_interval_ms: int = 0,
        resume: bool = True,
    ) -> StreamResult:
        """Streams ``audio`` (bytes, or a PcmAudio, whose format is used) in chunks of
        ``chunk_frames`` frames (or ``chunk_ms`` ms) and returns the whole result
        (``checkpoint_interval_ms``, ``resume``: see stream())."""
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
        return self.stream(full, chunks, timeout=timeout, resume=resume,
                           checkpoint_interval_ms=checkpoint_interval_ms).finish()

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
    """A Client for the server at ``addr`` (host:port, or any gRPC target: e.g.
    ``ipv4:10.0.0.1:50051,10.0.0.2:50051`` with
    ``options=[("grpc.lb_policy_name", "round_robin")]``).

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

    def open_channel() -> grpc.Channel:
        if secure is None:
            return grpc.insecure_channel(addr, channel_options)
        return grpc.secure_channel(addr, secure, channel_options)

    return Client(open_channel(), credentials, timeout=timeout, retry=retry,
                  open_channel=open_channel)
