"""What a stream answered, and the exception that carries it when the stream fails."""

from __future__ import annotations

import dataclasses
from typing import Optional

import grpc

from audioproc.v1 import audioproc_pb2 as pb
from audioproc.wav import PcmAudio

__all__ = ["AudioprocError", "StreamResult"]


@dataclasses.dataclass
class StreamResult:
    """What a Process stream answered, in order.

    ``chunks`` holds one ProcessedChunk per input chunk (sequence i answers chunk i), ``tail``
    the flushed remainder after the half-close; ``output`` is all their audio, in
    ``ready.output``'s format. ``protocol_errors`` lists every departure from DESIGN.md
    section 3 ("Process, message by message") seen: empty for a well-behaved server.
    """

    ready: Optional[pb.StreamReady] = None
    chunks: list[pb.ProcessedChunk] = dataclasses.field(default_factory=list)
    tail: Optional[pb.ProcessedChunk] = None
    summary: Optional[pb.StreamSummary] = None
    chunks_sent: int = 0
    output: bytes = b""
    protocol_errors: list[str] = dataclasses.field(default_factory=list)
    #: How many times the stream went on in a resumed call (see Client.stream); ``ready``
    #: is then the first call's, ``summary`` the last one's.
    resumes: int = 0

    @property
    def events(self) -> list[pb.Event]:
        """Every event of every chunk, in order."""
        return [e for c in self.chunks + ([self.tail] if self.tail else []) for e in c.events]

    def output_audio(self) -> PcmAudio:
        """The output with its format, e.g. for write_wav."""
        if self.ready is None:
            raise ValueError("the stream never became ready")
        return PcmAudio.of(self.output, self.ready.output)


class AudioprocError(Exception):
    """A call that ended with a non-OK status, or was refused before it started.

    ``code`` is the grpc.StatusCode, ``details`` the server's message; ``result`` what the
    stream answered before the error (``result.ready`` is None when the config was refused
    and nothing was streamed), None for unary calls.
    """

    def __init__(
        self, code: grpc.StatusCode, details: str, result: Optional[StreamResult] = None
    ) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.result = result
