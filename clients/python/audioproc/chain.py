"""Chains as tools take them (DESIGN.md section 3, "One-line chains").

The same semantics and error messages as the C++ tools (clients/chain_parser.h): the one-line
form ``name[:param=value]...[,name...]`` read through the proto's descriptors (so processors
added to the proto work unchanged), or proto3 JSON: ``[...]`` a chain, ``{...}`` a whole
StreamConfig. Also the friendly forms of a mid-stream update (``chain_update``).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional, Union

from google.protobuf import descriptor as _descriptor
from google.protobuf import json_format
from google.protobuf import message as _message

from audioproc.v1 import audioproc_pb2 as pb

__all__ = [
    "ChainError",
    "ChainLike",
    "UpdateLike",
    "chain_update",
    "format_chain",
    "parse_chain",
    "parse_stream_config",
    "to_chain",
]

_FD = _descriptor.FieldDescriptor
# ASCII whitespace only, as the C++ parser strips (absl::StripAsciiWhitespace).
_SPACE = " \t\n\v\f\r"
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?\d+")
_INT_RANGES = {
    _FD.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    _FD.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    _FD.CPPTYPE_UINT32: (0, 2**32 - 1),
    _FD.CPPTYPE_UINT64: (0, 2**64 - 1),
}


class ChainError(ValueError):
    """A chain that does not parse. The message names the chain position (0-based, as
    ProcessorUpdate.index), the processor and the parameter, e.g.
    ``chain[0]: highpass.cutoff_hz: 'abc' is not a number``."""


def _processor_oneof() -> _descriptor.OneofDescriptor:
    return pb.ProcessorSpec.DESCRIPTOR.oneofs_by_name["processor"]


def _one_line_restriction(field: _descriptor.FieldDescriptor) -> str:
    """Why the one-line form cannot carry ``field``, or "" if it can."""
    if field.label == _FD.LABEL_REPEATED:
        return "is a list"
    if field.cpp_type == _FD.CPPTYPE_MESSAGE:
        return "is nested"
    if field.type == _FD.TYPE_BYTES:
        return "is binary"
    return ""


def _as_float32(value: float) -> Optional[float]:
    """``value`` rounded to float32, or None if that overflows."""
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return None


def set_scalar_field_from_text(
    field: _descriptor.FieldDescriptor, text: str, message: _message.Message
) -> None:
    """Sets the singular scalar ``field`` of ``message`` from its one-line text (trimmed).

    Values are read by field type: float and double (decimal, finite), integers (whole numbers
    in the type's range), bool (true, false, 1, 0; any case), enums (value name), strings.
    Raises ChainError describing the value alone ("'abc' is not a number").
    """
    if restriction := _one_line_restriction(field):
        raise ChainError(f"{field.name} {restriction}")
    cpp_type = field.cpp_type
    if cpp_type in (_FD.CPPTYPE_FLOAT, _FD.CPPTYPE_DOUBLE):
        if _NON_FINITE.fullmatch(text):
            raise ChainError(f"'{text}' is not a finite number")
        if not _DECIMAL.fullmatch(text):
            raise ChainError(f"'{text}' is not a number")
        value = float(text)
        # A float field must be finite as a float too: 1e39 is a double but not a float.
        if not math.isfinite(value) or (
            cpp_type == _FD.CPPTYPE_FLOAT and _as_float32(value) is None
        ):
            raise ChainError(f"'{text}' is not a finite number")
        setattr(message, field.name, value)
    elif cpp_type in _INT_RANGES:
        low, high = _INT_RANGES[cpp_type]
        if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
            raise ChainError(f"'{text}' is not a whole number in [{low}, {high}]")
        setattr(message, field.name, int(text))
    elif cpp_type == _FD.CPPTYPE_BOOL:
        lower = text.lower()
        if lower not in ("true", "false", "1", "0"):
            raise ChainError(f"'{text}' is not a bool (true, false, 1 or 0)")
        setattr(message, field.name, lower in ("true", "1"))
    elif cpp_type == _FD.CPPTYPE_ENUM:
        values = field.enum_type.values_by_name
        value = values.get(text.upper()) or values.get(text)
        if value is None:
            names = ", ".join(v.name for v in field.enum_type.values)
            raise ChainError(f"'{text}' is not one of {names}")
        setattr(message, field.name, value.number)
    elif cpp_type == _FD.CPPTYPE_STRING:
        setattr(message, field.name, text)
    else:
        raise ChainError(f"{field.name} is not a scalar")


def _parse_segment(segment: str, index: int) -> pb.ProcessorSpec:
    """One processor of the one-line form, ``name[:param=value]...``, at chain position index."""
    where = f"chain[{index}]"
    tokens = segment.split(":")
    name = tokens[0].strip(_SPACE)
    if not name:
        raise ChainError(
            f"{where}: "
            + (
                "empty processor (a leading, trailing or doubled ',')"
                if len(tokens) == 1
                else "missing processor name before ':'"
            )
        )
    oneof = _processor_oneof()
    processor = pb.ProcessorSpec.DESCRIPTOR.fields_by_name.get(name)
    if processor is None or processor.containing_oneof is not oneof:
        known = ", ".join(f.name for f in oneof.fields)
        raise ChainError(f"{where}: unknown processor '{name}' (known: {known})")
    spec = pb.ProcessorSpec()
    params = getattr(spec, name)
    params.SetInParent()  # A processor with no parameters is still chosen.
    seen: set[str] = set()
    for raw in tokens[1:]:
        token = raw.strip(_SPACE)
        if not token:
            raise ChainError(f"{where}: {name}: empty parameter (a stray ':')")
        if "=" not in token:
            raise ChainError(f"{where}: {name}: parameter '{token}' has no '=' and value")
        key, value = (part.strip(_SPACE) for part in token.split("=", 1))
        if not key:
            raise ChainError(f"{where}: {name}: parameter name missing before '='")
        field = params.DESCRIPTOR.fields_by_name.get(key)
        if field is None:
            takes = ", ".join(f.name for f in params.DESCRIPTOR.fields) or "none"
            raise ChainError(f"{where}: {name} has no parameter '{key}' ({name} takes: {takes})")
        param = f"{name}.{key}"
        if restriction := _one_line_restriction(field):
            raise ChainError(
                f"{where}: {param} {restriction}, which the one-line form cannot carry: give "
                f'the chain as JSON, e.g. [{{"{name}":{{"{field.json_name}":...}}}}]'
            )
        if key in seen:
            raise ChainError(f"{where}: {param} is given twice")
        seen.add(key)
        if not value:
            raise ChainError(f"{where}: {param}: no value after '='")
        try:
            set_scalar_field_from_text(field, value, params)
        except ChainError as error:
            raise ChainError(f"{where}: {param}: {error}") from None
    return spec


def _parse_json_config(text: str, what: str) -> pb.StreamConfig:
    try:
        return json_format.Parse(text, pb.StreamConfig())
    except (json_format.ParseError, ValueError) as error:
        raise ChainError(f"invalid JSON {what}: {error}") from None


def _has_more_than_chain(config: pb.StreamConfig) -> bool:
    rest = pb.StreamConfig()
    rest.CopyFrom(config)
    rest.ClearField("chain")
    return rest.ByteSize() != 0


def parse_stream_config(text: str) -> pb.StreamConfig:
    """Parses a chain, or a whole StreamConfig, in any of the forms tools accept.

    Text starting with ``{`` (after whitespace) is a proto3 JSON StreamConfig; ``[`` a proto3
    JSON array of ProcessorSpec; anything else the one-line form. Blank text is the empty chain.
    The ``[`` and one-line forms give a StreamConfig with only ``chain`` set.
    Raises ChainError.
    """
    trimmed = text.strip(_SPACE)
    if trimmed.startswith("{"):
        return _parse_json_config(trimmed, "StreamConfig")
    if trimmed.startswith("["):
        config = _parse_json_config('{"chain":' + trimmed + "}", "chain")
        # Wrapping lets `[...], "streamId": "x"` through as valid JSON; it is not an array.
        if _has_more_than_chain(config):
            raise ChainError("invalid JSON chain: not a single JSON array")
        return config
    config = pb.StreamConfig()
    if trimmed:
        for index, segment in enumerate(trimmed.split(",")):
            config.chain.append(_parse_segment(segment, index))
    return config


def parse_chain(text: str) -> list[pb.ProcessorSpec]:
    """As parse_stream_config, but returns the chain, and a ``{`` StreamConfig may set nothing
    but ``chain``. Raises ChainError."""
    config = parse_stream_config(text)
    if _has_more_than_chain(config):
        raise ChainError(
            "this JSON StreamConfig sets more than its chain, which is all that is accepted "
            "here: give a chain"
        )
    return list(config.chain)


def _shortest_float32(value: float) -> str:
    """The shortest decimal that reads back as the same float32 (0.7071, not 0.70709997)."""
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if _as_float32(candidate) == value:
            text = repr(candidate)
            return text[:-2] if text.endswith(".0") else text
    return repr(value)


def _format_value(field: _descriptor.FieldDescriptor, value: object) -> str:
    if field.cpp_type == _FD.CPPTYPE_FLOAT:
        return _shortest_float32(float(value))
    if field.cpp_type == _FD.CPPTYPE_DOUBLE:
        return repr(float(value))
    if field.cpp_type == _FD.CPPTYPE_BOOL:
        return "true" if value else "false"
    if field.cpp_type == _FD.CPPTYPE_ENUM:
        return field.enum_type.values_by_number[value].name
    if field.type == _FD.TYPE_BYTES:
        return f"<{len(value)} bytes>"
    if field.cpp_type == _FD.CPPTYPE_MESSAGE:
        return "{" + json_format.MessageToJson(value, indent=None) + "}"
    return str(value)


def format_chain(chain: Sequence[pb.ProcessorSpec]) -> str:
    """The one-line form of ``chain`` (the parameters that are set, in field order), e.g. to
    show a StreamReady's resolved chain. Parses back with parse_chain when every parameter is
    a scalar; lists print as ``matrix=[0.5 0.5]``, for people to read."""
    segments = []
    for spec in chain:
        name = spec.WhichOneof("processor")
        if name is None:
            segments.append("(none)")
            continue
        segment = name
        for field, value in getattr(spec, name).ListFields():
            if field.label == _FD.LABEL_REPEATED:
                text = "[" + " ".join(_format_value(field, v) for v in value) + "]"
            else:
                text = _format_value(field, value)
            segment += f":{field.name}={text}"
        segments.append(segment)
    return ",".join(segments)


# --------------------------------------------------------------------------------------------
# Friendly forms

#: A chain: one-line or JSON text (as parse_chain takes), one ProcessorSpec, or a sequence of
#: them.
ChainLike = Union[str, pb.ProcessorSpec, Iterable[pb.ProcessorSpec]]

#: A mid-stream update: a ChainUpdate; a chain (ChainLike) whose processors are matched to the
#: stream's chain by name, or placed from ``index`` on; or a mapping of chain positions to
#: processors (one-line text or ProcessorSpec).
UpdateLike = Union[pb.ChainUpdate, ChainLike, Mapping[int, Union[str, pb.ProcessorSpec]]]


def to_chain(chain: ChainLike) -> list[pb.ProcessorSpec]:
    """The chain in any of its friendly forms as a list of ProcessorSpec. Raises ChainError."""
    if isinstance(chain, str):
        return parse_chain(chain)
    if isinstance(chain, pb.ProcessorSpec):
        return [chain]
    specs = list(chain)
    for spec in specs:
        if not isinstance(spec, pb.ProcessorSpec):
            raise ChainError(f"a chain holds ProcessorSpec messages, not {type(spec).__name__}")
    return specs


def _one_spec(value: Union[str, pb.ProcessorSpec], index: int) -> pb.ProcessorSpec:
    specs = to_chain(value)
    if len(specs) != 1:
        raise ChainError(f"update of chain[{index}]: give one processor, not {len(specs)}")
    return specs[0]


def chain_update(
    update: UpdateLike,
    *,
    index: Optional[int] = None,
    chain: Optional[Sequence[pb.ProcessorSpec]] = None,
) -> pb.ChainUpdate:
    """A ChainUpdate from any of the friendly forms.

    - a ChainUpdate: as it is;
    - ``{1: "gain:gain_db=-6"}``: chain position to processor (text or ProcessorSpec);
    - a chain (``"gain:gain_db=-6,limiter:ceiling_db=-3"``, a ProcessorSpec or a list of
      them): with ``index``, the processors go to positions index, index+1, ...; without, each
      goes to the one position of ``chain`` (the stream's resolved chain, StreamReady.chain)
      that holds a processor of its name.

    Only the parameters that are set change. Raises ChainError.
    """
    if isinstance(update, pb.ChainUpdate):
        result = pb.ChainUpdate()
        result.CopyFrom(update)
        return result
    result = pb.ChainUpdate()
    if isinstance(update, Mapping):
        for position, value in sorted(update.items()):
            result.updates.add(index=int(position), spec=_one_spec(value, int(position)))
        return result
    specs = to_chain(update)
    if index is not None:
        for offset, spec in enumerate(specs):
            result.updates.add(index=index + offset, spec=spec)
        return result
    if chain is None:
        raise ChainError("an update by processor name needs the stream's chain: give index=")
    names = [spec.WhichOneof("processor") for spec in chain]
    for spec in specs:
        name = spec.WhichOneof("processor")
        positions = [i for i, n in enumerate(names) if n == name]
        if len(positions) != 1:
            where = "is not in" if not positions else f"is {len(positions)} times in"
            raise ChainError(
                f"update: '{name}' {where} the stream's chain ({','.join(map(str, names))}): "
                "give index= or a {position: processor} mapping"
            )
        result.updates.add(index=positions[0], spec=spec)
    return result
