"""audioproc: a streaming client for the audioproc real-time audio-processing service.

    import audioproc

    with audioproc.connect("localhost:50051", token="...") as client:
        with client.stream("highpass:cutoff_hz=80,gain,limiter:ceiling_db=-1",
                           microphone_chunks(), format="s16le:16000:1") as stream:
            for chunk in stream:           # audio, metrics and events, as they come
                play(chunk.data)
                if too_loud(chunk.metrics):
                    stream.update("gain:gain_db=-6")   # mid-stream, between two chunks
        print(stream.summary)

``audioproc.aio.connect`` is the same over asyncio. Errors are AudioprocError (the gRPC status
code, its details, and what was answered so far). ``python3 -m audioproc`` is the command
line. The generated messages are ``audioproc.pb`` (audioproc.v1.audioproc_pb2).
"""

from audioproc._client import Client, Stream, connect
from audioproc._common import ConfigLike, Retry, RetryLike, make_config
from audioproc._result import AudioprocError, StreamResult
from audioproc.chain import (
    ChainError,
    ChainLike,
    UpdateLike,
    chain_update,
    format_chain,
    parse_chain,
    parse_stream_config,
    to_chain,
)
from audioproc.formats import AudioFormatLike, format_to_string, parse_format, to_bytes, to_numpy
from audioproc.v1 import audioproc_pb2 as pb
from audioproc.v1 import audioproc_pb2_grpc as pb_grpc
from audioproc.wav import PcmAudio, WavError, read_wav, write_wav

__version__ = "1.0.0"

__all__ = [
    "AudioFormatLike",
    "AudioprocError",
    "ChainError",
    "ChainLike",
    "Client",
    "ConfigLike",
    "PcmAudio",
    "Retry",
    "RetryLike",
    "Stream",
    "StreamResult",
    "UpdateLike",
    "WavError",
    "chain_update",
    "connect",
    "format_chain",
    "format_to_string",
    "make_config",
    "parse_chain",
    "parse_format",
    "parse_stream_config",
    "pb",
    "pb_grpc",
    "read_wav",
    "to_bytes",
    "to_chain",
    "to_numpy",
    "write_wav",
]
