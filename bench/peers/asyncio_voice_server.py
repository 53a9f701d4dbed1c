#!/usr/bin/python3
"""asyncio_voice_server: the seed's approach as a peer of audioproc-server for `make bench`
(issue 12). One Python process, one asyncio event loop, grpc.aio, and per stream the voice
chain of DESIGN.md section 8 (bench/workload_chains.h) in numpy and scipy: highpass 80 Hz,
STFT denoise, compressor, loudness toward -16 LUFS, limiter at -1 dBFS. Every chunk is
processed on the event loop as it arrives, vectorized over the chunk; that is the approach
being measured, so nothing here moves work to threads or processes.

    /usr/bin/python3 bench/peers/asyncio_voice_server.py --port=0 --port_file=/tmp/ports.json

The protocol is audioproc-server's (audioproc.v1.AudioProcessor/Process): a config first
(16-bit little-endian mono at any rate; the config's chain is ignored, this chain always
runs), then `ready`, one ProcessedChunk per chunk (same length, ChunkMetrics.sequence the
chunk's or counted from 1), and after the client's half-close a tail (the chain's latency
flushed out) and a summary, then OK. The port file is {"grpc": <port>, "metrics": 0}: there is
no metrics listener. SIGTERM or SIGINT stops it (open streams get 1 s), exit code 0.

Python: Debian's /usr/bin/python3 with python3-grpcio, python3-protobuf, python3-numpy and
python3-scipy (.ci/install-deps); the stubs are the committed ones of clients/python.
Thread safety: everything runs on the event loop's thread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from typing import Optional

import grpc
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal as sps

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
from audioproc.v1 import audioproc_pb2 as pb  # noqa: E402  (the committed stubs)
from audioproc.v1 import audioproc_pb2_grpc as pb_grpc  # noqa: E402

# audioproc-server's default --max_message_bytes, so that both refuse the same messages.
MAX_MESSAGE_BYTES = 34603008
# What ready grants when the config leaves max_chunk_bytes at 0 (audioproc-server's default).
DEFAULT_MAX_CHUNK_BYTES = 1 << 20


def one_pole(time_constant_s: float, rate_hz: float) -> float:
    """The feedback coefficient of a one-pole smoother with this time constant."""
    return float(np.exp(-1.0 / (time_constant_s * rate_hz)))


def db_to_gain(db):
    return np.power(10.0, np.asarray(db) / 20.0)


class Highpass:
    """80 Hz, 2nd-order Butterworth (audioproc's highpass default order), state carried."""

    def __init__(self, rate_hz: float, cutoff_hz: float = 80.0) -> None:
        self.sos = sps.butter(2, cutoff_hz, btype="highpass", fs=rate_hz, output="sos")
        self.zi = np.zeros((self.sos.shape[0], 2))

    def process(self, x: np.ndarray) -> np.ndarray:
        y, self.zi = sps.sosfilt(self.sos, x, zi=self.zi)
        return y


class Denoise:
    """STFT noise suppression in the shape of audioproc's denoise: frames of the largest power
    of two up to 32 ms every N/4 samples under a periodic sqrt-Hann window (analysis x
    synthesis = Hann, whose N/4 shifts sum to 2), a noise floor tracked per bin (minimum of the
    smoothed power, rising at most RISE_DB_PER_S: Doblinger's tracker, simpler than IMCRA), a
    decision-directed Wiener gain floored at -reduction_db, overlap-add. Frames run every N/4
    input samples whatever the chunk size; the output lags the input by N samples, and
    `process` returns as many samples as it was given (zeros first)."""

    RISE_DB_PER_S = 5.0
    SMOOTHING = 0.7  # of the power, frame to frame, before the minimum search
    # The minimum of a smoothed periodogram under-estimates the mean noise power; 2.5 brings
    # steady white noise down about 22 dB at the default 24, as audioproc's denoise does.
    BIAS = 2.5
    DECISION_DIRECTED = 0.98
    MIN_PRIORI_SNR = 10 ** (-25 / 10)  # Cappe's lower bound against musical noise

    def __init__(self, rate_hz: float, reduction_db: float = 24.0) -> None:
        self.n = 1 << int(np.floor(np.log2(0.032 * rate_hz)))
        self.hop = self.n // 4
        self.window = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.n) / self.n))
        self.floor = float(db_to_gain(-reduction_db))
        self.rise = 10 ** (self.RISE_DB_PER_S / 10 * self.hop / rate_hz)
        self.history = np.zeros(self.n - self.hop)  # input before the next hop, for its frame
        self.pending = np.zeros(0)  # input short of a whole hop
        self.overlap = np.zeros(self.n)  # overlap-add accumulator
        self.output = np.zeros(self.hop)  # made, not yet returned; never runs dry (see class)
        self.smoothed: Optional[np.ndarray] = None
        self.noise: Optional[np.ndarray] = None
        self.clean_power: Optional[np.ndarray] = None
        self.latency = self.n

    def process(self, x: np.ndarray) -> np.ndarray:
        samples = np.concatenate((self.pending, x))
        hops = len(samples) // self.hop
        self.pending = samples[hops * self.hop:]
        if hops:
            signal_ = np.concatenate((self.history, samples[:hops * self.hop]))
            self.history = signal_[-(self.n - self.hop):]
            frames = sliding_window_view(signal_, self.n)[::self.hop]
            spectra = np.fft.rfft(frames * self.window, axis=1)
            power = spectra.real ** 2 + spectra.imag ** 2
            # The noise estimate and the decision-directed SNR depend on the frame before:
            # a loop over this chunk's frames (two or three), each a vector over the bins.
            gains = np.empty_like(power)
            for i in range(hops):
                gains[i] = self._gain(power[i])
            frames_out = np.fft.irfft(spectra * gains, n=self.n, axis=1) * (self.window * 0.5)
            made = np.empty(hops * self.hop)
            for i in range(hops):
                self.overlap += frames_out[i]
                made[i * self.hop:(i + 1) * self.hop] = self.overlap[:self.hop]
                self.overlap[:-self.hop] = self.overlap[self.hop:]
                self.overlap[-self.hop:] = 0
            self.output = np.concatenate((self.output, made))
        y, self.output = self.output[:len(x)], self.output[len(x):]
        return y

    def _gain(self, power: np.ndarray) -> np.ndarray:
        if self.noise is None:
            self.smoothed = power.copy()
            self.noise = np.maximum(power, 1e-12)
            self.clean_power = np.zeros_like(power)
        self.smoothed = self.SMOOTHING * self.smoothed + (1 - self.SMOOTHING) * power
        self.noise = np.maximum(
            np.where(self.smoothed < self.noise, self.smoothed, self.noise * self.rise), 1e-12)
        noise = self.noise * self.BIAS
        posteriori = power / noise
        priori = (self.DECISION_DIRECTED * self.clean_power / noise +
                  (1 - self.DECISION_DIRECTED) * np.maximum(posteriori - 1, 0))
        priori = np.maximum(priori, self.MIN_PRIORI_SNR)
        gain = np.maximum(priori / (1 + priori), self.floor)
        self.clean_power = gain * gain * power
        return gain


class Compressor:
    """Feed-forward, RMS detector, soft knee, attack / release on the reduction in dB. The
    detector is a one-pole filter (lfilter) on the squared signal; the asymmetric smoothing is
    the larger of the reduction smoothed with the attack and with the release time constant
    (rising, the attack one leads; falling, the release one holds), each an lfilter with its
    state carried, so that nothing loops per sample in Python."""

    def __init__(self, rate_hz: float, threshold_db: float = -20.0, ratio: float = 4.0,
                 knee_db: float = 6.0, attack_ms: float = 5.0, release_ms: float = 100.0,
                 rms_ms: float = 10.0) -> None:
        self.threshold_db, self.slope, self.knee_db = threshold_db, 1 - 1 / ratio, knee_db
        self.filters = []
        for ms in (rms_ms, attack_ms, release_ms):
            a = one_pole(ms / 1000, rate_hz)
            self.filters.append(([1 - a], [1, -a]))
        self.zi = [np.zeros(1) for _ in self.filters]

    def _smooth(self, which: int, x: np.ndarray) -> np.ndarray:
        b, a = self.filters[which]
        y, self.zi[which] = sps.lfilter(b, a, x, zi=self.zi[which])
        return y

    def process(self, x: np.ndarray) -> np.ndarray:
        level_db = 10 * np.log10(np.maximum(self._smooth(0, x * x), 1e-12))
        over = level_db - self.threshold_db
        reduction = np.where(
            2 * over <= -self.knee_db, 0.0,
            np.where(2 * np.abs(over) < self.knee_db,
                     self.slope * (over + self.knee_db / 2) ** 2 / (2 * self.knee_db),
                     self.slope * over))
        smoothed = np.maximum(self._smooth(1, reduction), self._smooth(2, reduction))
        return x * db_to_gain(-smoothed)


class Loudness:
    """Normalization toward target_lufs: BS.1770 K-weighting (the two biquads, designed for
    this rate as libebur128 does) and a 400 ms running mean square per chunk; momentary
    readings above -70 LUFS and within 10 LU of the estimate join a slowly forgetting gated
    average; the gain (at most max_gain_db) moves toward target - estimate with a 3 s time
    constant and is ramped linearly across each chunk."""

    ESTIMATE_S, GAIN_S, MOMENTARY_S = 10.0, 3.0, 0.4

    def __init__(self, rate_hz: float, target_lufs: float = -16.0,
                 max_gain_db: float = 20.0) -> None:
        self.rate_hz, self.target, self.max_gain_db = rate_hz, target_lufs, max_gain_db
        k = np.tan(np.pi * 1681.974450955533 / rate_hz)
        vh, q = 10 ** (3.999843853973347 / 20), 0.7071752369554196
        vb = vh ** 0.4996667741545416
        a0 = 1 + k / q + k * k
        shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0,
                 (vh - vb * k / q + k * k) / a0, 1, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
        k, q = np.tan(np.pi * 38.13547087602444 / rate_hz), 0.5003270373238773
        a0 = 1 + k / q + k * k
        highpass = [1, -2, 1, 1, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
        self.sos = np.array([shelf, highpass])
        self.zi = np.zeros((2, 2))
        self.mean_square = 0.0
        self.estimate_power = 0.0  # gated average of the momentary mean squares
        self.estimate_weight = 0.0
        self.gain_db = 0.0

    def process(self, x: np.ndarray) -> np.ndarray:
        seconds = len(x) / self.rate_hz
        weighted, self.zi = sps.sosfilt(self.sos, x, zi=self.zi)
        a = np.exp(-seconds / self.MOMENTARY_S)
        self.mean_square = a * self.mean_square + (1 - a) * float(np.mean(weighted * weighted))
        momentary = -0.691 + 10 * np.log10(max(self.mean_square, 1e-20))
        estimate: Optional[float] = None
        if self.estimate_weight > 0:
            estimate = -0.691 + 10 * np.log10(self.estimate_power / self.estimate_weight)
        if momentary > -70 and (estimate is None or momentary > estimate - 10):
            forget = np.exp(-seconds / self.ESTIMATE_S)
            self.estimate_power = forget * self.estimate_power + self.mean_square
            self.estimate_weight = forget * self.estimate_weight + 1
            estimate = -0.691 + 10 * np.log10(self.estimate_power / self.estimate_weight)
        start = self.gain_db
        if estimate is not None:
            desired = min(self.target - estimate, self.max_gain_db)
            self.gain_db += (desired - self.gain_db) * (1 - np.exp(-seconds / self.GAIN_S))
        ramp = np.linspace(start, self.gain_db, len(x), endpoint=False) if len(x) else x
        return x * db_to_gain(ramp)


class Limiter:
    """Peak limiter at ceiling_db without lookahead: each block of BLOCK samples gets at least
    the reduction that brings its peak to the ceiling (so no sample exceeds it), and the
    reduction is released through a one-pole filter of release_ms (lfilter, state carried)."""

    BLOCK = 16  # 1 ms at 16 kHz

    def __init__(self, rate_hz: float, ceiling_db: float = -1.0,
                 release_ms: float = 50.0) -> None:
        self.ceiling = float(db_to_gain(ceiling_db))
        a = one_pole(release_ms / 1000, rate_hz)
        self.b, self.a = [1 - a], [1, -a]
        self.zi = np.zeros(1)

    def process(self, x: np.ndarray) -> np.ndarray:
        blocks = -(-len(x) // self.BLOCK)
        padded = np.zeros(blocks * self.BLOCK)
        padded[:len(x)] = np.abs(x)
        peaks = padded.reshape(blocks, self.BLOCK).max(axis=1)
        needed = 20 * np.log10(np.maximum(peaks / self.ceiling, 1.0))
        needed = np.repeat(needed, self.BLOCK)[:len(x)]
        released, self.zi = sps.lfilter(self.b, self.a, needed, zi=self.zi)
        return x * db_to_gain(-np.maximum(needed, released))


class VoiceChain:
    """bench/workload_chains.h's VoiceChain: highpass 80 Hz, denoise, compressor, loudness
    -16 LUFS, limiter -1 dBFS, on one stream's float samples in [-1, 1)."""

    def __init__(self, rate_hz: float) -> None:
        self.stages = [Highpass(rate_hz), Denoise(rate_hz), Compressor(rate_hz),
                       Loudness(rate_hz), Limiter(rate_hz)]
        self.latency = sum(getattr(stage, "latency", 0) for stage in self.stages)

    def process(self, x: np.ndarray) -> np.ndarray:
        for stage in self.stages:
            x = stage.process(x)
        return x

    def flush(self) -> np.ndarray:
        """What the latency still holds: silence pushed through the whole chain."""
        return self.process(np.zeros(self.latency))


def decode_s16(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def encode_s16(x: np.ndarray) -> bytes:
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype("<i2").tobytes()


def chunk_response(data: bytes, frames_in: int, frames_out: int, sequence: int, process_s: float,
                   tail: bool = False) -> pb.ProcessResponse:
    response = pb.ProcessResponse()
    chunk = response.chunk
    chunk.data = data
    chunk.tail = tail
    chunk.metrics.sequence = sequence
    chunk.metrics.frames_in = frames_in
    chunk.metrics.frames_out = frames_out
    chunk.metrics.process_us = int(process_s * 1e6)
    return response


class VoicePeer(pb_grpc.AudioProcessorServicer):
    """Process only; the other methods are the generated UNIMPLEMENTED ones."""

    async def Process(self, request_iterator, context):
        chain: Optional[VoiceChain] = None
        rate_hz = chunks = frames_in = frames_out = 0
        started = time.monotonic()
        processing_s = 0.0
        async for request in request_iterator:
            kind = request.WhichOneof("request")
            if chain is None:
                if kind != "config":
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                        "the first message must be a config (StreamConfig)")
                source = request.config.input
                if (source.encoding != pb.PCM_S16LE or source.channels != 1 or
                        not 8000 <= source.sample_rate_hz <= 192000):
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                        "the voice peer takes 16-bit mono (PCM_S16LE, 1 "
                                        "channel, 8 to 192 kHz)")
                rate_hz = source.sample_rate_hz
                chain = VoiceChain(rate_hz)
                response = pb.ProcessResponse()
                ready = response.ready
                ready.output.CopyFrom(source)
                ready.stream_id = request.config.stream_id or "voice"
                ready.max_chunk_bytes = request.config.max_chunk_bytes or DEFAULT_MAX_CHUNK_BYTES
                yield response
            elif kind == "chunk":
                chunks += 1
                tick = time.perf_counter()
                x = decode_s16(request.chunk.data[:len(request.chunk.data) // 2 * 2])
                out = encode_s16(chain.process(x))
                spent = time.perf_counter() - tick
                processing_s += spent
                frames_in += len(x)
                frames_out += len(x)
                yield chunk_response(out, len(x), len(x), request.chunk.sequence or chunks, spent)
            else:
                await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                                    "the voice peer takes only chunks after the config")
        if chain is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "the stream ended before its first message, which must be a "
                                "config")
        tick = time.perf_counter()
        tail = chain.flush()
        spent = time.perf_counter() - tick
        processing_s += spent
        frames_out += len(tail)
        yield chunk_response(encode_s16(tail), 0, len(tail), 0, spent, tail=True)
        response = pb.ProcessResponse()
        summary = response.summary
        summary.frames_in, summary.frames_out, summary.chunks = frames_in, frames_out, chunks
        summary.audio_seconds = frames_in / rate_hz
        summary.wall_seconds = time.monotonic() - started
        summary.real_time_factor = processing_s / summary.audio_seconds if frames_in else 0.0
        yield response


def write_port_file(path: str, port: int) -> None:
    temporary = path + ".tmp"  # renamed: a reader never sees half a file
    with open(temporary, "w", encoding="ascii") as f:
        json.dump({"grpc": port, "metrics": 0}, f)
    os.replace(temporary, path)


async def serve(args: argparse.Namespace) -> int:
    # audioproc-server's transport settings where they change what a stream costs (see
    # service/server.cc): the same message limit, no SO_REUSEPORT, no BDP probing.
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.so_reuseport", 0),
        ("grpc.http2.bdp_probe", 0),
    ])
    pb_grpc.add_AudioProcessorServicer_to_server(VoicePeer(), server)
    host = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
    port = server.add_insecure_port(f"{host}:{args.port}")
    if port == 0:
        print(f"asyncio_voice_server: could not listen on {host}:{args.port}", file=sys.stderr)
        return 1
    await server.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    print(f"asyncio_voice_server: listening on {args.host}, port {port}", file=sys.stderr,
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop(grace=1)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="gRPC port; 0 picks a free one")
    parser.add_argument("--port_file", default="",
                        help='once listening, write {"grpc": <port>, "metrics": 0} here')
    return asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
