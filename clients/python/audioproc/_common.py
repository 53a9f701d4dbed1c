"""What the sync and the asyncio clients share: connection options, retry policy, configs,
and the bookkeeping of a stream's responses."""

from __future__ import annotations

import dataclasses
import os
import random
from typing import Optional, Union

import grpc

from audioproc.chain import ChainLike, parse_stream_config, to_chain
from audioproc.formats import AudioFormatLike, bytes_per_frame, to_audio_format
from audioproc.v1 import audioproc_pb2 as pb
from audioproc._result import AudioprocError, StreamResult

__all__ = ["ConfigLike", "Credentials", "Retry", "RetryLike", "make_config"]

#: A StreamConfig, or a chain in any form (one-line or JSON text, ProcessorSpec, list of them).
#: JSON text starting with ``{`` is a whole StreamConfig.
ConfigLike = Union[pb.StreamConfig, ChainLike]
#: PEM bytes, or the path of a PEM file.
PemLike = Union[bytes, str, "os.PathLike[str]"]

# A response is as large as the chunk that caused it; the server enforces its own limits.
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]


@dataclasses.dataclass(frozen=True)
class Retry:
    """Retry of UNAVAILABLE (server not up yet, connection refused or reset) with exponential
    backoff and jitter: ``attempts`` calls in all, waits of initial_backoff_s, x multiplier,
    ... up to max_backoff_s. A stream is retried only before its StreamReady: after it the
    server has processed audio, and sending it again would duplicate it."""

    attempts: int = 5
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 5.0
    multiplier: float = 2.0

    def backoff(self, attempt: int) -> float:
        """The wait before call ``attempt`` + 1 (attempt counts from 1), with +-20 % jitter."""
        base = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (attempt - 1))
        return base * random.uniform(0.8, 1.2)


#: A Retry; an int: that many attempts with the default backoff; False: no retry; None: the
#: default Retry().
RetryLike = Union[Retry, int, bool, None]


def to_retry(retry: RetryLike) -> Retry:
    if retry is None or retry is True:
        return Retry()
    if retry is False:
        return Retry(attempts=1)
    if isinstance(retry, int):
        return Retry(attempts=max(1, retry))
    return retry


def _pem(value: Optional[PemLike]) -> Optional[bytes]:
    if value is None or isinstance(value, bytes):
        return value
    with open(os.fspath(value), "rb") as f:
        return f.read()


@dataclasses.dataclass(frozen=True)
class Credentials:
    """How to reach the server: TLS (on with ``tls`` or any of ca, cert, key), mutual TLS
    (``cert`` and ``key``: the client's certificate chain and private key), and a bearer token
    sent as ``authorization: Bearer <token>``."""

    tls: bool = False
    ca: Optional[bytes] = None
    cert: Optional[bytes] = None
    key: Optional[bytes] = None
    token: Optional[str] = None

    @classmethod
    def make(
        cls,
        *,
        tls: bool = False,
        ca: Optional[PemLike] = None,
        cert: Optional[PemLike] = None,
        key: Optional[PemLike] = None,
        token: Optional[str] = None,
    ) -> "Credentials":
        if (cert is None) != (key is None):
            raise ValueError("mutual TLS needs both cert and key")
        return cls(
            tls=bool(tls or ca is not None or cert is not None),
            ca=_pem(ca), cert=_pem(cert), key=_pem(key), token=token or None,
        )

    def channel_credentials(self) -> Optional[grpc.ChannelCredentials]:
        """None for a plaintext channel."""
        if not self.tls:
            return None
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )

    def metadata(self) -> Optional[tuple[tuple[str, str], ...]]:
        if not self.token:
            return None
        return (("authorization", f"Bearer {self.token}"),)


def make_config(
    config: ConfigLike,
    input_format: Optional[AudioFormatLike] = None,
    *,
    stream_id: Optional[str] = None,
) -> pb.StreamConfig:
    """The StreamConfig to send: ``config`` in any of its forms, with ``input_format`` as its
    input (which must agree with an input the config sets). Raises ValueError (ChainError)."""
    if isinstance(config, pb.StreamConfig):
        result = pb.StreamConfig()
        result.CopyFrom(config)
    elif isinstance(config, str):
        result = parse_stream_config(config)
    else:
        result = pb.StreamConfig(chain=to_chain(config))
    if input_format is not None:
        fmt = to_audio_format(input_format)
        given = result.input
        for field in ("encoding", "sample_rate_hz", "channels"):
            if getattr(given, field) not in (0, getattr(fmt, field)):
                raise ValueError(
                    f"the config's input {field} is {getattr(given, field)} but the input "
                    f"format says {getattr(fmt, field)}"
                )
        result.input.CopyFrom(fmt)
    if stream_id:
        result.stream_id = stream_id
    if bytes_per_frame(result.input) == 0 or result.input.sample_rate_hz == 0:
        raise ValueError(
            "the stream needs its input format: pass format='s16le:16000:1' (or an "
            "AudioFormat), or a StreamConfig with input set"
        )
    return result


class Collector:
    """Checks and records a stream's responses in StreamResult as they arrive, and what a
    resume needs: the last checkpoint, and which responses of a resumed call are repeats."""

    def __init__(self, resume: bool = False) -> None:
        self.result = StreamResult()
        self.resume = resume  # resume on UNAVAILABLE once a checkpoint is held
        self.checkpoint: Optional[pb.Checkpoint] = None
        self._output = bytearray()
        self._answered = 0

    def can_resume(self, code: grpc.StatusCode, call_ready: bool) -> bool:
        """Whether a call that ended with ``code`` (after its ready: ``call_ready``) is
        resumed from the checkpoint held."""
        return (self.resume and call_ready and code == grpc.StatusCode.UNAVAILABLE
                and self.checkpoint is not None)

    def add(self, response: pb.ProcessResponse) -> Optional[pb.ProcessedChunk]:
        """Records ``response``; returns it if it is a ProcessedChunk (the tail too) that the
        caller has not had yet (a resumed call repeats the chunks answered after the
        checkpoint). Raises AudioprocError if a resumed call did not go on from the
        checkpoint held."""
        result, errors = self.result, self.result.protocol_errors
        kind = response.WhichOneof("response")
        if kind == "checkpoint":
            self.checkpoint = response.checkpoint
            return None
        if result.resumes and kind == "ready":
            after, held = response.ready.resumed_after_sequence, self.checkpoint.sequence
            if after != held:
                raise AudioprocError(
                    grpc.StatusCode.INTERNAL,
                    f"the stream resumed after chunk {after}, not after the checkpoint's "
                    f"chunk {held}",
                    result,
                )
            return None
        if result.resumes and kind == "chunk" and (
            result.tail is not None
            if response.chunk.tail
            else response.chunk.metrics.sequence <= self._answered
        ):
            return None
        if result.summary is not None:
            errors.append(f"{kind} after the summary")
        if kind == "ready":
            if result.ready is not None or result.chunks or result.tail is not None:
                errors.append("ready is not the first response")
            result.ready = response.ready
        elif kind == "chunk":
            chunk = response.chunk
            if result.ready is None:
                errors.append("a chunk before ready")
            if result.tail is not None:
                errors.append("a chunk after the tail")
            if chunk.tail:
                result.tail = chunk
            else:
                result.chunks.append(chunk)
                self._answered += 1
                if chunk.metrics.sequence != self._answered:
                    errors.append(
                        f"chunk response {self._answered} has sequence {chunk.metrics.sequence}"
                    )
            self._output += chunk.data
            return chunk
        elif kind == "summary":
            if result.tail is None:
                errors.append("summary before the tail")
            result.summary = response.summary
        else:
            errors.append("a response with nothing set")
        return None

    def finish(self, ok: bool, chunks_sent: int) -> StreamResult:
        """The result once the call has ended (``ok``: with status OK)."""
        result = self.result
        result.output = bytes(self._output)
        result.chunks_sent = chunks_sent
        if ok:
            errors = result.protocol_errors
            if result.ready is None:
                errors.append("no ready")
            if len(result.chunks) != chunks_sent:
                errors.append(f"{len(result.chunks)} chunk responses for {chunks_sent} chunks")
            if result.tail is None:
                errors.append("no tail")
            if result.summary is None:
                errors.append("no summary")
        return result

