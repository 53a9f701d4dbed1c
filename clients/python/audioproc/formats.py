"""Sample encodings and audio formats: ``s16le:16000:1`` text, sizes, and chunk conversion
(bytes, or numpy arrays when numpy is installed)."""

from __future__ import annotations

from typing import Any, Union

from audioproc.v1 import audioproc_pb2 as pb

__all__ = [
    "AudioFormatLike",
    "BYTES_PER_SAMPLE",
    "bytes_per_frame",
    "format_to_string",
    "parse_encoding",
    "parse_format",
    "to_audio_format",
    "to_bytes",
    "to_numpy",
]

#: Bytes per sample of each encoding (PCM_S24LE is packed: 3 bytes).
BYTES_PER_SAMPLE: dict[int, int] = {
    pb.PCM_S16LE: 2,
    pb.PCM_S24LE: 3,
    pb.PCM_S32LE: 4,
    pb.PCM_F32LE: 4,
    pb.MULAW: 1,
    pb.ALAW: 1,
}

# The names tools take, as the C++ client's ParseEncoding (clients/pcm.cc), plus the
# little-endian spellings of --format (s16le, ...).
_SHORT_NAMES = {
    "s16": pb.PCM_S16LE, "s16le": pb.PCM_S16LE,
    "s24": pb.PCM_S24LE, "s24le": pb.PCM_S24LE,
    "s32": pb.PCM_S32LE, "s32le": pb.PCM_S32LE,
    "f32": pb.PCM_F32LE, "f32le": pb.PCM_F32LE,
    "mulaw": pb.MULAW, "ulaw": pb.MULAW,
    "alaw": pb.ALAW,
}

#: An AudioFormat, or its text ``ENCODING:RATE:CHANNELS`` (e.g. ``s16le:16000:1``).
AudioFormatLike = Union[pb.AudioFormat, str]


def parse_encoding(name: str) -> int:
    """``s16le``, ``s16``, ``PCM_S16LE``, ... (any case) as an Encoding value. Raises ValueError."""
    lower = name.strip().lower()
    if lower in _SHORT_NAMES:
        return _SHORT_NAMES[lower]
    upper = lower.upper()
    if upper in pb.Encoding.keys() and upper != "ENCODING_UNSPECIFIED":
        return pb.Encoding.Value(upper)
    raise ValueError(
        f"unknown encoding '{name}' (s16le, s24le, s32le, f32le, mulaw, alaw, or PCM_S16LE, "
        "PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, ALAW)"
    )


def parse_format(text: str) -> pb.AudioFormat:
    """``ENCODING:RATE:CHANNELS``, e.g. ``s16le:16000:1``. Raises ValueError."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"format '{text}' is not ENCODING:RATE:CHANNELS (e.g. s16le:16000:1)")
    encoding = parse_encoding(parts[0])
    try:
        rate, channels = int(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"format '{text}': rate and channels must be whole numbers") from None
    if rate <= 0 or channels <= 0:
        raise ValueError(f"format '{text}': rate and channels must be positive")
    return pb.AudioFormat(encoding=encoding, sample_rate_hz=rate, channels=channels)


def to_audio_format(value: AudioFormatLike) -> pb.AudioFormat:
    """An AudioFormat from an AudioFormat or its text. Raises ValueError."""
    if isinstance(value, pb.AudioFormat):
        return value
    return parse_format(value)


def bytes_per_frame(fmt: pb.AudioFormat) -> int:
    """Bytes per interleaved frame; 0 if the encoding or channel count is unset."""
    return BYTES_PER_SAMPLE.get(fmt.encoding, 0) * fmt.channels


def format_to_string(fmt: pb.AudioFormat) -> str:
    """``16000 Hz, 1 ch, PCM_S16LE``, as the C++ client prints a format."""
    return f"{fmt.sample_rate_hz} Hz, {fmt.channels} ch, {pb.Encoding.Name(fmt.encoding)}"


_NUMPY_DTYPES = {
    pb.PCM_S16LE: "<i2",
    pb.PCM_S32LE: "<i4",
    pb.PCM_F32LE: "<f4",
    pb.MULAW: "u1",
    pb.ALAW: "u1",
}
_INT_SCALE = {pb.PCM_S16LE: 32768.0, pb.PCM_S32LE: 2147483648.0}


def to_bytes(chunk: Any, encoding: int = pb.ENCODING_UNSPECIFIED) -> bytes:
    """A chunk's bytes: bytes-like objects as they are; numpy arrays (frames, or frames x
    channels, interleaved in C order) in ``encoding``: arrays of the encoding's own type as
    they are, float arrays into integer encodings scaled from [-1, 1] (clipped, rounded),
    integer arrays into PCM_F32LE divided by 2^(bits-1). Raises TypeError, ValueError."""
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - without numpy only bytes are chunks
        raise TypeError(f"a chunk is bytes, not {type(chunk).__name__}") from None
    if not isinstance(chunk, np.ndarray):
        raise TypeError(f"a chunk is bytes or a numpy array, not {type(chunk).__name__}")
    dtype = _NUMPY_DTYPES.get(encoding)
    if dtype is None:
        names = ", ".join(pb.Encoding.Name(e) for e in _NUMPY_DTYPES)
        raise ValueError(f"numpy chunks need an encoding of {names}")
    target = np.dtype(dtype)
    array = np.ascontiguousarray(chunk)
    if array.dtype.kind == "f" and target.kind == "i":
        scale = _INT_SCALE[encoding]
        info = np.iinfo(target)
        array = np.clip(np.rint(array.astype(np.float64) * scale), info.min, info.max)
    elif array.dtype.kind == "i" and target.kind == "f":
        array = array.astype(np.float64) / float(2 ** (8 * array.dtype.itemsize - 1))
    elif array.dtype.kind != target.kind or (
        target.kind != "f" and array.dtype.itemsize != target.itemsize
    ):
        raise ValueError(f"a {array.dtype} array cannot be sent as {pb.Encoding.Name(encoding)}")
    return array.astype(target, copy=False).tobytes()


def to_numpy(data: bytes, fmt: pb.AudioFormat) -> Any:
    """``data`` in ``fmt`` as a numpy array of frames x channels (PCM_S24LE as int32, the 24
    bits on top). Needs numpy."""
    import numpy as np

    if fmt.encoding == pb.PCM_S24LE:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
        array = ((raw[:, 0] << 8) | (raw[:, 1] << 16) | (raw[:, 2] << 24)).view(np.int32)
    else:
        array = np.frombuffer(data, dtype=np.dtype(_NUMPY_DTYPES[fmt.encoding]))
    return array.reshape(-1, max(1, fmt.channels))
