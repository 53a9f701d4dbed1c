"""The command line, ``python3 -m audioproc``: the flags and output of the C++
``audioproc-client`` (clients/client_main.cc).

    python3 -m audioproc --input=speech.wav --output=out.wav \\
        --chain='highpass:cutoff_hz=80,limiter:ceiling_db=-1'
    arecord -f S16_LE -r 16000 -c 1 | python3 -m audioproc --input - --format s16le:16000:1 \\
        --chain=gain:gain_db=6 --output - | aplay -f S16_LE -r 16000 -c 1
    python3 -m audioproc --list

Exits 0 on success; otherwise prints the status code name and message and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import BinaryIO, Optional, TextIO

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from audioproc._client import Client, connect
from audioproc._common import make_config
from audioproc._result import AudioprocError, StreamResult
from audioproc.chain import ChainError, format_chain, parse_stream_config
from audioproc.formats import bytes_per_frame, format_to_string, parse_encoding, parse_format
from audioproc.v1 import audioproc_pb2 as pb
from audioproc.wav import PcmAudio, WavError, read_wav, write_wav

__all__ = ["main"]

PROGRAM = "audioproc"


class _Failure(Exception):
    """Ends the command with a status code name and message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> _Failure:
    return _Failure(grpc.StatusCode.INVALID_ARGUMENT, message)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python3 -m {PROGRAM}",
        description="Streams audio through an audioproc server and writes the result, or lists "
        "its processors (--list). Flags as audioproc-client's; --flag=value or --flag value.",
    )
    p.add_argument("--addr", default="localhost:50051", help="server address, host:port")
    p.add_argument("--input", default="",
                   help="WAV file to stream (16-bit PCM is sent as PCM_S16LE, every other WAV as "
                   "PCM_F32LE), or '-': raw PCM from standard input in --format")
    p.add_argument("--format", default="",
                   help="raw input's format, ENCODING:RATE:CHANNELS with ENCODING s16le, s24le, "
                   "s32le, f32le, mulaw or alaw (e.g. s16le:16000:1); makes --input raw PCM")
    p.add_argument("--output", default="",
                   help="WAV file for the processed audio (as the C++ client writes it), or '-': "
                   "raw PCM to standard output as it comes (the text summary then goes to "
                   "standard error). Empty: do not write")
    p.add_argument("--chain", default="",
                   help="one-line 'highpass:cutoff_hz=80,limiter:ceiling_db=-1', or proto3 JSON: "
                   "a chain '[{\"highpass\":{\"cutoffHz\":80}}]' or a whole StreamConfig")
    p.add_argument("--chunk_ms", type=int, default=20, help="milliseconds of input per chunk")
    p.add_argument("--chunk_frames", type=int, default=0,
                   help="input frames per chunk; non-zero overrides --chunk_ms")
    p.add_argument("--realtime", action="store_true",
                   help="send chunks at the pace of the audio, as a live source would")
    p.add_argument("--stream_id", default="", help="stream id; empty: the server assigns one")
    p.add_argument("--output_rate", type=int, default=0, help="output sample rate; 0: input's")
    p.add_argument("--output_channels", type=int, default=0, help="output channels; 0: input's")
    p.add_argument("--output_encoding", default="",
                   help="output encoding (PCM_S16LE, ..., or s16, s24, s32, f32, mulaw, alaw)")
    p.add_argument("--dither", action="store_true", help="TPDF dither for integer output")
    p.add_argument("--token", default="",
                   help="bearer token, sent as 'authorization: Bearer <token>'; empty: "
                   "$AUDIOPROC_TOKEN if set")
    p.add_argument("--tls", action="store_true", help="TLS with the system's root certificates")
    p.add_argument("--tls_ca", default="", help="PEM roots to verify the server; turns TLS on")
    p.add_argument("--tls_cert", default="", help="PEM client certificate (mutual TLS)")
    p.add_argument("--tls_key", default="", help="PEM private key of --tls_cert")
    p.add_argument("--timeout_s", type=float, default=0, help="call deadline in seconds; 0: none")
    p.add_argument("--list", action="store_true", help="print the server's processors and exit")
    p.add_argument("--json", action="store_true",
                   help="print the StreamSummary (or with --list the processors) as proto3 JSON")
    return p


def _to_json(message: Message) -> str:
    return json_format.MessageToJson(message, including_default_value_fields=True)


def _number(value: float) -> str:
    return f"{value:g}"


def print_processors(response: pb.ListProcessorsResponse, out: TextIO = sys.stdout) -> None:
    """One row per parameter under its processor, columns as wide as their widest cell (as
    audioproc-client --list prints)."""
    header = ["parameter", "type", "unit", "default", "range", "runtime", "summary"]
    tables = []
    for processor in response.processors:
        rows = []
        for p in processor.parameters:
            if p.required:
                default = "required"
            elif p.HasField("default_value"):
                default = _number(p.default_value)
            else:
                default = "-"
            span = ("|".join(p.allowed_values) if p.allowed_values
                    else f"{_number(p.min)}..{_number(p.max)}")
            rows.append([p.name, p.type, p.unit or "-", default, span,
                         "yes" if p.runtime_updatable else "no", p.summary])
        tables.append((processor, rows))
    widths = [len(h) for h in header[:-1]]
    for _, rows in tables:
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def line(row: list[str]) -> str:
        return "  " + "".join(c.ljust(w + 2) for c, w in zip(row, widths)) + row[-1]

    print(line(header), file=out)
    for processor, rows in tables:
        print(f"{processor.name}: {processor.summary}", file=out)
        for row in rows:
            print(line(row), file=out)


def print_result(result: StreamResult, latencies: Sequence[float], out: TextIO) -> None:
    """The text summary, as audioproc-client prints it."""
    if result.ready is not None:
        ready = result.ready
        print(f"stream {ready.stream_id}: output {format_to_string(ready.output)}, "
              f"latency {ready.latency_frames} frames", file=out)
        print(f"chain: {format_chain(ready.chain) if ready.chain else '(empty)'}", file=out)
    if result.summary is None:
        return
    s = result.summary
    print(f"frames in/out: {s.frames_in} / {s.frames_out} ({s.audio_seconds:.3f} s of audio), "
          f"chunks: {s.chunks}", file=out)
    print(f"wall time: {s.wall_seconds:.3f} s, real-time factor: {s.real_time_factor:.4f}",
          file=out)
    for timing in s.processors:
        print(f"  {timing.name:<12} {timing.seconds * 1e3:10.3f} ms", file=out)
    print(f"clipped samples: {s.clipped_samples}, non-finite input samples: "
          f"{s.nonfinite_samples}", file=out)
    if s.HasField("integrated_lufs"):
        print(f"integrated loudness: {s.integrated_lufs:.1f} LUFS", file=out)
    if s.discarded_bytes > 0:
        print(f"discarded: {s.discarded_bytes} bytes of an incomplete last frame", file=out)
    if s.dropped_events > 0:
        print(f"dropped events: {s.dropped_events}", file=out)
    if latencies:
        ordered = sorted(latencies)

        def at(q: float) -> float:
            return ordered[int(q * (len(ordered) - 1))] * 1e3

        print(f"chunk round trip: p50 {at(0.5):.2f} ms, p99 {at(0.99):.2f} ms, "
              f"max {at(1.0):.2f} ms", file=out)


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the input."""
    parts, have = [], 0
    while have < size:
        part = source.read(size - have)
        if not part:
            break
        parts.append(part)
        have += len(part)
    return b"".join(parts)


def _config(args: argparse.Namespace) -> pb.StreamConfig:
    try:
        config = parse_stream_config(args.chain)
    except ChainError as error:
        raise _invalid(f"--chain: {error}") from None
    if args.stream_id:
        config.stream_id = args.stream_id
    if args.output_encoding:
        try:
            config.output.encoding = parse_encoding(args.output_encoding)
        except ValueError as error:
            raise _invalid(str(error)) from None
    if args.output_rate:
        config.output.sample_rate_hz = args.output_rate
    if args.output_channels:
        config.output.channels = args.output_channels
    if args.dither:
        config.dither = pb.DITHER_TPDF
    return config


def _check_input_format(config: pb.StreamConfig, fmt: pb.AudioFormat, what: str) -> None:
    wanted = config.input
    if ((wanted.sample_rate_hz and wanted.sample_rate_hz != fmt.sample_rate_hz)
            or (wanted.channels and wanted.channels != fmt.channels)
            or (wanted.encoding and wanted.encoding != fmt.encoding)):
        raise _invalid(f"--chain's StreamConfig.input says {format_to_string(wanted)} but "
                       f"{what} is {format_to_string(fmt)}")


def _stream(args: argparse.Namespace, client: Client) -> None:
    if not args.input:
        raise _invalid("--input is required (or --list)")
    to_stdout = args.output == "-"
    if args.output and not to_stdout and not args.output.lower().endswith(".wav"):
        raise _invalid(f"--output '{args.output}': the Python client writes WAV files (.wav) "
                       "or raw PCM to standard output (-)")
    config = _config(args)
    raw = args.input == "-" or bool(args.format)
    source: Optional[BinaryIO] = None
    audio: Optional[PcmAudio] = None
    if raw:
        if not args.format:
            raise _invalid("--input - reads raw PCM: give its --format, e.g. s16le:16000:1")
        try:
            fmt = parse_format(args.format)
        except ValueError as error:
            raise _invalid(f"--format: {error}") from None
        _check_input_format(config, fmt, "--format")
        if args.input == "-":
            source = sys.stdin.buffer
        else:
            try:
                source = open(args.input, "rb")
            except OSError as error:
                raise _Failure(grpc.StatusCode.NOT_FOUND,
                               f"cannot open '{args.input}': {error.strerror}") from None
    else:
        try:
            audio = read_wav(args.input)
        except OSError as error:
            raise _Failure(grpc.StatusCode.NOT_FOUND,
                           f"cannot open '{args.input}': {error.strerror}") from None
        except WavError as error:
            raise _invalid(str(error)) from None
        fmt = audio.audio_format()
        _check_input_format(config, fmt, args.input)
    config.input.CopyFrom(fmt)
    frame = bytes_per_frame(fmt)
    chunk_frames = args.chunk_frames or max(1, fmt.sample_rate_hz * args.chunk_ms // 1000)
    chunk_bytes = chunk_frames * frame

    sent_at: list[float] = []

    def chunks() -> Iterator[bytes]:
        if audio is not None:
            for offset in range(0, len(audio.data), chunk_bytes):
                sent_at.append(time.monotonic())
                yield audio.data[offset:offset + chunk_bytes]
            return
        assert source is not None
        while True:
            data = _read_exactly(source, chunk_bytes)
            if not data:
                return
            sent_at.append(time.monotonic())
            yield data

    summary_out = sys.stderr if to_stdout else sys.stdout
    latencies: list[float] = []
    stdout = sys.stdout.buffer
    stream = client.stream(make_config(config), chunks(), realtime=args.realtime)
    try:
        with stream:
            for chunk in stream:
                if not chunk.tail and 0 < chunk.metrics.sequence <= len(sent_at):
                    latencies.append(time.monotonic() - sent_at[chunk.metrics.sequence - 1])
                if to_stdout and chunk.data:
                    stdout.write(chunk.data)
                    stdout.flush()
    except AudioprocError as error:
        _print_summary(args, error.result, latencies, summary_out)
        result = error.result
        if result is not None and result.ready is not None:
            raise _Failure(error.code, f"{error.details} ({len(result.chunks)} of "
                           f"{result.chunks_sent} chunks answered)") from None
        raise
    finally:
        if source is not None and source is not sys.stdin.buffer:
            source.close()
    result = stream.result
    _print_summary(args, result, latencies, summary_out)
    if result.protocol_errors:
        raise _Failure(grpc.StatusCode.INTERNAL,
                       "the server sent " + "; ".join(result.protocol_errors))
    if args.output and not to_stdout:
        try:
            write_wav(args.output, result.output_audio())
        except (OSError, WavError) as error:
            raise _invalid(f"writing '{args.output}' failed: {error}") from None
        if not args.json:
            print(f"wrote {args.output}", file=summary_out)


def _print_summary(args: argparse.Namespace, result: Optional[StreamResult],
                   latencies: Sequence[float], out: TextIO) -> None:
    if result is None:
        return
    if args.json:
        if result.summary is not None:
            print(_to_json(result.summary), file=out)
    else:
        print_result(result, latencies, out)
    out.flush()


def _run(args: argparse.Namespace) -> None:
    if args.chunk_ms <= 0 and args.chunk_frames <= 0:
        raise _invalid("--chunk_ms or --chunk_frames must be positive")
    token = args.token or os.environ.get("AUDIOPROC_TOKEN", "")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise _invalid("--tls_cert and --tls_key go together (mutual TLS)")
    try:
        client = connect(
            args.addr,
            tls=args.tls,
            ca=args.tls_ca or None,
            cert=args.tls_cert or None,
            key=args.tls_key or None,
            token=token or None,
            timeout=args.timeout_s or None,
        )
    except OSError as error:
        raise _Failure(grpc.StatusCode.NOT_FOUND,
                       f"cannot open '{error.filename}': {error.strerror}") from None
    with client:
        if args.list:
            response = client.list_processors()
            if args.json:
                print(_to_json(response))
            else:
                print_processors(response)
        else:
            _stream(args, client)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line. Returns 0 on success; otherwise prints the status and returns 1."""
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except AudioprocError as error:
        print(f"{PROGRAM}: {error.code.name}: {error.details}", file=sys.stderr)
        return 1
    except _Failure as error:
        print(f"{PROGRAM}: {error.code.name}: {error.message}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    return 0
