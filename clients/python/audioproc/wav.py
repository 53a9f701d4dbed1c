"""WAV files: read as the C++ client reads them, written byte for byte as it writes them.

Reading follows the C++ client's rule (clients/audio_file.cc, libsndfile underneath):
16-bit PCM is sent as PCM_S16LE; every other WAV (8/24/32-bit integer, 32/64-bit float) as
PCM_F32LE, integers converted as libsndfile does (sample / 2^(bits-1)). WAVE_FORMAT_EXTENSIBLE
files are read too; G.711 and compressed WAVs are not.

Writing reproduces libsndfile's SF_FORMAT_WAV files (what the C++ client writes) for
PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW and ALAW: a ``fmt`` chunk (16 bytes; 18 for
G.711), a ``fact`` chunk for all but integer PCM, for float a ``PEAK`` chunk (each channel's largest
magnitude and its first frame, and the time of writing, in seconds: the only bytes that can
differ from the C++ client's file), ``data``, and a pad byte after odd-sized data.
"""

from __future__ import annotations

import array
import dataclasses
import os
import struct
import sys
import time
from typing import BinaryIO, Optional, Union

from audioproc.formats import BYTES_PER_SAMPLE
from audioproc.v1 import audioproc_pb2 as pb

__all__ = ["PcmAudio", "WavError", "read_wav", "write_wav", "wav_bytes"]

_PCM, _FLOAT, _ALAW, _MULAW, _EXTENSIBLE = 1, 3, 6, 7, 0xFFFE
_TAGS = {pb.PCM_S16LE: _PCM, pb.PCM_S24LE: _PCM, pb.PCM_S32LE: _PCM, pb.PCM_F32LE: _FLOAT,
         pb.MULAW: _MULAW, pb.ALAW: _ALAW}
PathLike = Union[str, "os.PathLike[str]"]


class WavError(ValueError):
    """A file this module cannot read, or audio it cannot write as WAV."""


@dataclasses.dataclass
class PcmAudio:
    """Interleaved little-endian samples in ``encoding`` (PCM_S16LE by default)."""

    data: bytes
    sample_rate_hz: int
    channels: int
    encoding: int = pb.PCM_S16LE

    @property
    def frame_bytes(self) -> int:
        return BYTES_PER_SAMPLE[self.encoding] * self.channels

    @property
    def frames(self) -> int:
        return len(self.data) // self.frame_bytes

    def audio_format(self) -> pb.AudioFormat:
        return pb.AudioFormat(
            encoding=self.encoding, sample_rate_hz=self.sample_rate_hz, channels=self.channels
        )

    @classmethod
    def of(cls, data: bytes, fmt: pb.AudioFormat) -> "PcmAudio":
        return cls(data, fmt.sample_rate_hz, fmt.channels, fmt.encoding)


# --------------------------------------------------------------------------------------------
# Reading


def _floats_to_bytes(values: "array.array[float]") -> bytes:
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def _ints_to_f32(raw: bytes, bits: int) -> bytes:
    """Little-endian signed ``bits``-bit integers (8: unsigned) as float32 sample / 2^(bits-1),
    rounded to float32 first as libsndfile does ((float) sample * (1 / 2^31) on samples
    shifted to the top of 32 bits)."""
    width = bits // 8
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        if bits == 8:
            ints = np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128
        elif bits == 24:
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
            ints = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)).view(np.int32) >> 8
        else:
            ints = np.frombuffer(raw, dtype=f"<i{width}")
        scale = np.float32(2.0 ** -(bits - 1))
        return (ints.astype(np.float32) * scale).astype("<f4").tobytes()
    scale = 2.0 ** -(bits - 1)
    values = array.array("f")
    if bits == 8:
        values.extend((b - 128) * scale for b in raw)
    else:
        values.extend(
            # float32(int) first (the array rounds), then an exact power-of-two scaling.
            struct.unpack("<f", struct.pack("<f", int.from_bytes(raw[i:i + width], "little",
                                                                 signed=True)))[0] * scale
            for i in range(0, len(raw) - width + 1, width)
        )
    return _floats_to_bytes(values)


def _doubles_to_f32(raw: bytes) -> bytes:
    doubles = array.array("d")
    doubles.frombytes(raw[: len(raw) // 8 * 8])
    if sys.byteorder != "little":
        doubles.byteswap()
    return _floats_to_bytes(array.array("f", doubles))


def parse_wav(data: bytes, name: str = "WAV") -> PcmAudio:
    """The samples of a WAV file's bytes, by the C++ client's rule (see the module). Raises
    WavError."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    fmt: Optional[bytes] = None
    samples: Optional[bytes] = None
    at = 12
    while at + 8 <= len(data):
        chunk_id = data[at:at + 4]
        size = struct.unpack_from("<I", data, at + 4)[0]
        body = data[at + 8:at + 8 + size]
        if chunk_id == b"fmt ":
            fmt = body
        elif chunk_id == b"data":
            samples = body
            break
        at += 8 + size + (size & 1)
    if fmt is None or len(fmt) < 16 or samples is None:
        raise WavError(f"{name}: no fmt or data chunk")
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]  # the subformat GUID's first two bytes
    if channels == 0 or rate == 0:
        raise WavError(f"{name}: {channels} channels at {rate} Hz")
    width = block_align // channels if block_align else bits // 8
    samples = samples[: len(samples) // (width * channels) * (width * channels)]
    if tag == _PCM and width == 2:
        return PcmAudio(samples, rate, channels, pb.PCM_S16LE)
    if tag == _PCM and width in (1, 3, 4):
        return PcmAudio(_ints_to_f32(samples, 8 * width), rate, channels, pb.PCM_F32LE)
    if tag == _FLOAT and width == 4:
        return PcmAudio(samples, rate, channels, pb.PCM_F32LE)
    if tag == _FLOAT and width == 8:
        return PcmAudio(_doubles_to_f32(samples), rate, channels, pb.PCM_F32LE)
    raise WavError(
        f"{name}: WAV format tag {tag:#x} with {bits}-bit samples; the Python client reads PCM "
        "(8, 16, 24, 32-bit) and float (32, 64-bit) WAV"
    )


def read_wav(path: PathLike) -> PcmAudio:
    """Reads a WAV file (see parse_wav). Raises OSError, WavError."""
    with open(os.fspath(path), "rb") as f:
        return parse_wav(f.read(), os.fspath(path))


# --------------------------------------------------------------------------------------------
# Writing


def _peaks(audio: PcmAudio) -> list[tuple[float, int]]:
    """Each channel's largest magnitude and the first frame holding it, as libsndfile's PEAK
    chunk (0 at frame 0 for silence)."""
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        frames = np.frombuffer(audio.data, dtype="<f4").reshape(-1, audio.channels)
        if len(frames) == 0:
            return [(0.0, 0)] * audio.channels
        magnitudes = np.abs(frames)
        where = np.nanargmax(np.where(np.isnan(magnitudes), -1, magnitudes), axis=0)
        return [(float(max(magnitudes[where[c], c], 0.0)), int(where[c]))
                for c in range(audio.channels)]
    values = array.array("f")
    values.frombytes(audio.data)
    if sys.byteorder != "little":
        values.byteswap()
    peaks = []
    for channel in range(audio.channels):
        best, position = 0.0, 0
        for frame, value in enumerate(values[channel::audio.channels]):
            if abs(value) > best:  # NaN never compares greater
                best, position = abs(value), frame
        peaks.append((best, position))
    return peaks


def wav_bytes(audio: PcmAudio, *, timestamp: Optional[int] = None) -> bytes:
    """The WAV file libsndfile writes for ``audio`` (SF_FORMAT_WAV). ``timestamp``: the PEAK
    chunk's time for float audio (default: now). Raises WavError."""
    tag = _TAGS.get(audio.encoding)
    if tag is None:
        raise WavError(f"cannot write {pb.Encoding.Name(audio.encoding)} as WAV")
    width = BYTES_PER_SAMPLE[audio.encoding]
    frame_bytes = width * audio.channels
    if audio.channels <= 0 or audio.sample_rate_hz <= 0:
        raise WavError(f"{audio.channels} channels at {audio.sample_rate_hz} Hz")
    if len(audio.data) % frame_bytes:
        raise WavError(
            f"{len(audio.data)} bytes is not a whole number of {frame_bytes}-byte frames")
    frames = len(audio.data) // frame_bytes
    header = struct.pack("<HHIIHH", tag, audio.channels, audio.sample_rate_hz,
                         audio.sample_rate_hz * frame_bytes, frame_bytes, 8 * width)
    chunks = []
    if tag in (_PCM, _FLOAT):
        chunks.append(b"fmt " + struct.pack("<I", 16) + header)
    else:  # G.711: with cbSize
        chunks.append(b"fmt " + struct.pack("<I", 18) + header + struct.pack("<H", 0))
    if tag != _PCM:
        chunks.append(b"fact" + struct.pack("<II", 4, frames & 0xFFFFFFFF))
    if tag == _FLOAT:
        stamp = int(time.time()) if timestamp is None else timestamp
        peak = struct.pack("<II", 1, stamp & 0xFFFFFFFF)
        for value, position in _peaks(audio):
            peak += struct.pack("<fI", value, position & 0xFFFFFFFF)
        chunks.append(b"PEAK" + struct.pack("<I", len(peak)) + peak)
    body = b"WAVE" + b"".join(chunks) + b"data" + struct.pack("<I", len(audio.data)) + audio.data
    if len(audio.data) & 1:
        body += b"\0"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_wav(path_or_file: Union[PathLike, BinaryIO], audio: PcmAudio) -> None:
    """Writes ``audio`` as the WAV file the C++ client would write (see wav_bytes)."""
    data = wav_bytes(audio)
    if hasattr(path_or_file, "write"):
        path_or_file.write(data)  # type: ignore[union-attr]
        return
    with open(os.fspath(path_or_file), "wb") as f:  # type: ignore[arg-type]
        f.write(data)
