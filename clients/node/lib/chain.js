// Chains and stream configs as tools take them, and printed back.
//
// Chains are given as in DESIGN.md section 3, "One-line chains", with the same semantics and
// error messages as the C++ tools (clients/chain_parser.h) and the Python client: the
// one-line form `name[:param=value]...[,name...]`, read through the proto's descriptors (so
// processors added to the proto work unchanged), or proto3 JSON: `[...]` a chain, `{...}` a
// whole StreamConfig (JSON or proto field names, enum names or numbers, base64 bytes; unknown
// fields refused). Parsed messages are plain objects with the proto's field names, as grpc-js
// sends them.
'use strict';

const { PACKAGE, load, messageType } = require('./proto');

// ASCII whitespace only, as the C++ parser strips (absl::StripAsciiWhitespace).
const SPACE = ' \t\n\v\f\r';
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const INTEGER = /^[+-]?\d+$/;
const INT32 = [-(2n ** 31n), 2n ** 31n - 1n];
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n];
const INT_RANGES = {
  int32: INT32, sint32: INT32, sfixed32: INT32, int64: INT64, sint64: INT64, sfixed64: INT64,
  uint32: [0n, 2n ** 32n - 1n], fixed32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n], fixed64: [0n, 2n ** 64n - 1n],
};
const FLOAT32_MAX = 3.4028234663852886e38;

// A message type's fields in field-number order (the order protobuf serializes and lists them).
function fieldsOf(type) { return [...type.fieldsArray].sort((a, b) => a.id - b.id); }

function isEnum(field) { return field.resolvedType instanceof load().protobuf.Enum; }
function isMessage(field) { return field.resolvedType instanceof load().protobuf.Type; }

// The proto3 JSON name of a field: lowerCamelCase of its proto name.
function jsonName(field) {
  return field.name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

// The real oneof `field` belongs to, or null (a proto3 `optional` field's synthetic oneof is
// not one).
function realOneof(field) {
  return field.partOf && !field.options?.proto3_optional ? field.partOf : null;
}

// The fields of ProcessorSpec's `processor` oneof: one per processor, named as the processor.
function processorFields() {
  const spec = messageType(`${PACKAGE}.ProcessorSpec`);
  const oneof = spec.oneofs?.processor;
  if (!oneof) throw new Error('audioproc.v1.ProcessorSpec has no oneof "processor"');
  return fieldsOf(spec).filter((f) => f.partOf === oneof);
}

// Enum values of an enum field, [{name, number}] in declaration order.
function enumValues(field) {
  return Object.entries(field.resolvedType.values).map(([name, number]) => ({ name, number }));
}

// A chain that does not parse. The message names the chain position (0-based, as
// ProcessorUpdate.index), the processor and the parameter, e.g.
// "chain[0]: highpass.cutoff_hz: 'abc' is not a number".
class ChainError extends Error {
  constructor(message) { super(message); this.name = 'ChainError'; }
}

function strip(text) {
  let start = 0;
  let end = text.length;
  while (start < end && SPACE.includes(text[start])) ++start;
  while (end > start && SPACE.includes(text[end - 1])) --end;
  return text.slice(start, end);
}

// Why the one-line form cannot carry `field`, or '' if it can.
function oneLineRestriction(field) {
  if (field.repeated) return 'is a list';
  if (isMessage(field)) return 'is nested';
  if (field.type === 'bytes') return 'is binary';
  return '';
}

// A whole number in a JavaScript value protobufjs takes for the field: a Number when exact,
// else its decimal string (64-bit fields only).
function integerValue(big) {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big) : big.toString();
}

// The value of scalar `field` from its one-line text (trimmed): floats and doubles (decimal,
// finite), integers (whole numbers in the type's range), bools (true, false, 1, 0; any case),
// enums (value name), strings. Throws ChainError describing the value alone.
function scalarFromText(field, text) {
  const restriction = oneLineRestriction(field);
  if (restriction) throw new ChainError(`${field.name} ${restriction}`);
  if (isEnum(field)) {
    const values = enumValues(field);
    const value = values.find((v) => v.name === text.toUpperCase()) ??
                  values.find((v) => v.name === text);
    if (value === undefined) {
      throw new ChainError(`'${text}' is not one of ${values.map((v) => v.name).join(', ')}`);
    }
    return value.name;
  }
  switch (field.type) {
    case 'float':
    case 'double': {
      if (NON_FINITE.test(text)) throw new ChainError(`'${text}' is not a finite number`);
      if (!DECIMAL.test(text)) throw new ChainError(`'${text}' is not a number`);
      const value = Number(text);
      // A float field must be finite as a float too: 1e39 is a double but not a float.
      if (!Number.isFinite(value) ||
          (field.type === 'float' && !Number.isFinite(Math.fround(value)))) {
        throw new ChainError(`'${text}' is not a finite number`);
      }
      return value;
    }
    case 'bool': {
      const lower = text.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(lower)) {
        throw new ChainError(`'${text}' is not a bool (true, false, 1 or 0)`);
      }
      return lower === 'true' || lower === '1';
    }
    case 'string':
      return text;
    default: {
      const range = INT_RANGES[field.type];
      if (range === undefined) throw new ChainError(`${field.name} is not a scalar`);
      const [low, high] = range;
      if (!INTEGER.test(text) || BigInt(text) < low || BigInt(text) > high) {
        throw new ChainError(`'${text}' is not a whole number in [${low}, ${high}]`);
      }
      return integerValue(BigInt(text));
    }
  }
}

// One processor of the one-line form, `name[:param=value]...`, at chain position `index`.
function parseSegment(segment, index) {
  const where = `chain[${index}]`;
  const tokens = segment.split(':');
  const name = strip(tokens[0]);
  if (!name) {
    throw new ChainError(`${where}: ${tokens.length === 1
      ? "empty processor (a leading, trailing or doubled ',')"
      : "missing processor name before ':'"}`);
  }
  const processors = processorFields();
  const processor = processors.find((f) => f.name === name);
  if (processor === undefined) {
    throw new ChainError(`${where}: unknown processor '${name}' (known: ${
      processors.map((f) => f.name).join(', ')})`);
  }
  const fields = fieldsOf(processor.resolvedType);
  const params = {};
  for (const raw of tokens.slice(1)) {
    const token = strip(raw);
    if (!token) throw new ChainError(`${where}: ${name}: empty parameter (a stray ':')`);
    const equals = token.indexOf('=');
    if (equals < 0) {
      throw new ChainError(`${where}: ${name}: parameter '${token}' has no '=' and value`);
    }
    const key = strip(token.slice(0, equals));
    const value = strip(token.slice(equals + 1));
    if (!key) throw new ChainError(`${where}: ${name}: parameter name missing before '='`);
    const field = fields.find((f) => f.name === key);
    if (field === undefined) {
      throw new ChainError(`${where}: ${name} has no parameter '${key}' (${name} takes: ${
        fields.map((f) => f.name).join(', ') || 'none'})`);
    }
    const param = `${name}.${key}`;
    const restriction = oneLineRestriction(field);
    if (restriction) {
      throw new ChainError(`${where}: ${param} ${restriction}, which the one-line form cannot ` +
                           `carry: give the chain as JSON, e.g. [{"${name}":{"${
                             jsonName(field)}":...}}]`);
    }
    if (Object.hasOwn(params, key)) throw new ChainError(`${where}: ${param} is given twice`);
    if (!value) throw new ChainError(`${where}: ${param}: no value after '='`);
    try {
      params[key] = scalarFromText(field, value);
    } catch (error) {
      if (error instanceof ChainError) throw new ChainError(`${where}: ${param}: ${error.message}`);
      throw error;
    }
  }
  return { [name]: params };
}

// Proto3 JSON value `value` of `field` as protobufjs takes it; `where` names it in errors.
function fieldFromJson(field, value, where) {
  if (isMessage(field)) return messageFromJson(field.resolvedType, value, where);
  const fail = (what) => { throw new ChainError(`${where}: ${what}`); };
  if (isEnum(field)) {
    const values = enumValues(field);
    const found = typeof value === 'number' ? values.find((v) => v.number === value)
      : values.find((v) => v.name === value);
    if (found === undefined) {
      fail(`${JSON.stringify(value)} is not one of ${values.map((v) => v.name).join(', ')}`);
    }
    return found.name;
  }
  switch (field.type) {
    case 'float':
    case 'double': {
      let number = value;
      if (typeof value === 'string') {
        if (value === 'NaN') number = NaN;
        else if (value === 'Infinity') number = Infinity;
        else if (value === '-Infinity') number = -Infinity;
        else if (DECIMAL.test(value)) number = Number(value);
        else fail(`'${value}' is not a number`);
      } else if (typeof value !== 'number') {
        fail(`${JSON.stringify(value)} is not a number`);
      }
      if (field.type === 'float' && Number.isFinite(number) &&
          !Number.isFinite(Math.fround(number)) && Math.abs(number) > FLOAT32_MAX) {
        fail(`${value} is out of range for a float`);
      }
      return number;
    }
    case 'bool':
      if (typeof value !== 'boolean') fail(`${JSON.stringify(value)} is not true or false`);
      return value;
    case 'string':
      if (typeof value !== 'string') fail(`${JSON.stringify(value)} is not a string`);
      return value;
    case 'bytes':
      if (value instanceof Uint8Array) return Buffer.from(value);  // Given in code, not JSON.
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
        fail('not base64');
      }
      return Buffer.from(value, 'base64');
    default: {
      const range = INT_RANGES[field.type];
      let big;
      if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
      else if (typeof value === 'string' && INTEGER.test(value)) big = BigInt(value);
      else fail(`${JSON.stringify(value)} is not a whole number`);
      if (range === undefined || big < range[0] || big > range[1]) {
        fail(`${value} is out of range for ${field.type}`);
      }
      return integerValue(big);
    }
  }
}

// Proto3 JSON object `json` as a message of protobufjs type `type` in protobufjs's object
// form (proto field names). Accepts JSON and proto field names; refuses unknown fields, two
// members of one oneof and values of the wrong type. `null` leaves a field unset.
function messageFromJson(type, json, where) {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ChainError(`${where}: expected an object for ${type.fullName.slice(1)}`);
  }
  const message = {};
  const oneofSet = new Map();
  for (const [key, value] of Object.entries(json)) {
    const field = type.fieldsArray.find((f) => f.name === key || jsonName(f) === key);
    if (field === undefined) {
      throw new ChainError(`${where}: ${type.fullName.slice(1)} has no field named "${key}"`);
    }
    if (Object.hasOwn(message, field.name)) {
      throw new ChainError(`${where}: ${field.name} is given twice`);
    }
    if (value === null) continue;
    const at = `${where}.${jsonName(field)}`;
    const oneof = realOneof(field);
    if (oneof) {
      const earlier = oneofSet.get(oneof);
      if (earlier !== undefined) {
        throw new ChainError(`${at}: oneof ${oneof.name} is already set by ${earlier}`);
      }
      oneofSet.set(oneof, field.name);
    }
    if (field.repeated) {
      if (!Array.isArray(value)) throw new ChainError(`${at}: expected a list`);
      message[field.name] = value.map((v, i) => fieldFromJson(field, v, `${at}[${i}]`));
    } else {
      message[field.name] = fieldFromJson(field, value, at);
    }
  }
  return message;
}

function parseJsonConfig(text, what) {
  try {
    return messageFromJson(messageType(`${PACKAGE}.StreamConfig`), JSON.parse(text),
                           'StreamConfig');
  } catch (error) {
    if (error instanceof ChainError || error instanceof SyntaxError) {
      throw new ChainError(`invalid JSON ${what}: ${error.message}`);
    }
    throw error;
  }
}

// True if a proto3 `value` of `field` would be serialized (is not the field's default).
function isSet(field, value) {
  if (value === undefined || value === null) return false;
  if (field.repeated) return value.length > 0;
  if (isMessage(field) || field.partOf) return true;  // Fields with presence.
  if (isEnum(field)) return field.resolvedType.values[value] !== 0;
  if (Buffer.isBuffer(value)) return value.length > 0;
  return value !== 0 && value !== '' && value !== false && value !== '0';
}

// True if StreamConfig object `config` sets anything besides its chain.
function hasMoreThanChain(config) {
  return messageType(`${PACKAGE}.StreamConfig`).fieldsArray.some(
    (f) => f.name !== 'chain' && isSet(f, config[f.name]));
}

// Parses a chain, or a whole StreamConfig, in any of the forms tools accept: text starting
// with `{` (after whitespace) is a proto3 JSON StreamConfig, `[` a proto3 JSON array of
// ProcessorSpec, anything else the one-line form; blank text is the empty chain. The `[` and
// one-line forms give a StreamConfig with only `chain` set. Throws ChainError.
function parseStreamConfig(text) {
  const trimmed = strip(text);
  if (trimmed.startsWith('{')) return parseJsonConfig(trimmed, 'StreamConfig');
  if (trimmed.startsWith('[')) {
    const config = parseJsonConfig(`{"chain":${trimmed}}`, 'chain');
    // Wrapping lets `[...], "streamId": "x"` through as valid JSON; it is not an array.
    if (hasMoreThanChain(config)) {
      throw new ChainError('invalid JSON chain: not a single JSON array');
    }
    return { chain: config.chain ?? [] };
  }
  const chain = trimmed ? trimmed.split(',').map((s, i) => parseSegment(s, i)) : [];
  return { chain };
}

// As parseStreamConfig, but returns the chain, and a `{` StreamConfig may set nothing but
// `chain`. Throws ChainError.
function parseChain(text) {
  const config = parseStreamConfig(text);
  if (hasMoreThanChain(config)) {
    throw new ChainError('this JSON StreamConfig sets more than its chain, which is all that ' +
                         'is accepted here: give a chain');
  }
  return config.chain ?? [];
}

// The shortest decimal that reads back as the same float32 (0.7071, not 0.7070999741554260).
function shortestFloat32(value) {
  for (let digits = 1; digits <= 9; ++digits) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(value);
}

function formatValue(field, value) {
  if (isMessage(field)) return JSON.stringify(toProto3Json(field.resolvedType, value));
  switch (field.type) {
    case 'float': return shortestFloat32(value);
    case 'bool': return value ? 'true' : 'false';
    case 'bytes': return `<${value.length} bytes>`;
    default: return String(value);
  }
}

// The one-line form of `chain` (the parameters that are set, in field order), e.g. to show a
// StreamReady's resolved chain. Parses back with parseChain when every parameter is a
// scalar; lists print as `matrix=[0.5 0.5]`, for people to read.
function formatChain(chain) {
  return chain.map((spec) => {
    const processor = processorFields().find((f) => spec[f.name] != null);
    if (processor === undefined) return '(none)';
    const params = spec[processor.name];
    let segment = processor.name;
    for (const field of fieldsOf(processor.resolvedType)) {
      const value = params[field.name];
      if (value === undefined || value === null || (field.repeated && value.length === 0)) {
        continue;
      }
      const text = field.repeated
        ? `[${value.map((v) => formatValue(field, v)).join(' ')}]` : formatValue(field, value);
      segment += `:${field.name}=${text}`;
    }
    return segment;
  }).join(',');
}

// `message` (protobufjs object form, as grpc-js decodes it) of type `type` (a protobufjs Type
// or its full name) as proto3 JSON. Prints what the decoded object holds: with proto-loader's
// `defaults`, every scalar field even at its default (as the C++ tools' --json does), and
// `optional` fields only when set. 64-bit integers print as strings, as proto3 JSON wants.
function toProto3Json(type, message) {
  if (typeof type === 'string') type = messageType(type);
  const json = {};
  for (const field of fieldsOf(type)) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    const one = (v) => {
      if (isMessage(field)) return toProto3Json(field.resolvedType, v);
      if (Buffer.isBuffer(v)) return v.toString('base64');
      if (/64$/.test(field.type)) return String(v);
      if (typeof v === 'number' && !Number.isFinite(v)) {
        return Number.isNaN(v) ? 'NaN' : (v > 0 ? 'Infinity' : '-Infinity');
      }
      return v;
    };
    json[jsonName(field)] = field.repeated ? value.map(one) : one(value);
  }
  return json;
}

// Object `value` (proto3 JSON or proto field names, as messageFromJson takes) as message type
// `name` ('StreamConfig', in audioproc.v1) with the proto's field names, checked as the JSON
// form is. Throws ChainError.
function messageFromObject(name, value) {
  return messageFromJson(messageType(`${PACKAGE}.${name}`), value, name);
}

module.exports = {
  ChainError, formatChain, messageFromObject, parseChain, parseStreamConfig, processorFields,
  toProto3Json,
};
