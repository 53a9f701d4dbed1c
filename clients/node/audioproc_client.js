#!/usr/bin/env node
// audioproc_client: stream a 16-bit PCM WAV file through an audioproc server, from Node.js.
//
// A small library and a command-line tool on @grpc/grpc-js and @grpc/proto-loader (the repo's
// package.json; `.ci/install-deps --npm` installs them), loading
// protos/audioproc/v1/audioproc.proto at run time: no generated code. Chains are read through
// the reflection of protobufjs, the library proto-loader itself is built on.
//
// Command line (from the repository root, so that node_modules resolves):
//
//   node clients/node/audioproc_client.js --input clients/demo/speech_16k.wav \
//       --output out.wav --chain 'highpass:cutoff_hz=80,limiter:ceiling_db=-1'
//   node clients/node/audioproc_client.js --list
//
// Library:
//
//   const ac = require('./clients/node/audioproc_client.js');
//   const client = ac.connect('localhost:50051');
//   const result = await ac.processStream(client, ac.parseStreamConfig('gain:gain_db=6'),
//                                         ac.readWav('in.wav'), { chunkMs: 20 });
//   ac.writeWav('out.wav', ac.outputAudio(result));
//   client.close();
//
// Messages are plain objects with the proto's field names (`cutoff_hz`, not `cutoffHz`), as
// proto-loader's `keepCase` gives them; enums are value names, bytes are Buffers, 64-bit
// integers are Numbers.
//
// Chains are given as in DESIGN.md section 3, "One-line chains", with the same semantics and
// error messages as the C++ tools (clients/chain_parser.h) and the Python client: the
// one-line form `name[:param=value]...[,name...]`, read through the proto's descriptors (so
// processors added to the proto work unchanged), or proto3 JSON: `[...]` a chain, `{...}` a
// whole StreamConfig (JSON or proto field names, enum names or numbers, base64 bytes; unknown
// fields refused).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { parseArgs } = require('node:util');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_PATH = path.resolve(__dirname, '..', '..', 'protos', 'audioproc', 'v1',
                                'audioproc.proto');
const PACKAGE = 'audioproc.v1';
const LOADER_OPTIONS = {
  keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true,
};
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

// ---------------------------------------------------------------------------------------------
// The proto, loaded once

let loaded = null;

// The proto, loaded on first use: `definition` (proto-loader's package definition, for
// grpc-js), `AudioProcessor` (the client constructor) and `root` (protobufjs reflection, for
// reading chains and printing messages by their descriptors). The reflection comes from the
// protobufjs that @grpc/proto-loader itself is built on: proto-loader's own descriptor objects
// fill an unset oneof_index with 0, so they cannot tell a field outside any oneof from one in
// the first oneof.
function load() {
  if (loaded === null) {
    const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    const AudioProcessor = grpc.loadPackageDefinition(definition).audioproc.v1.AudioProcessor;
    const protobuf = require(require.resolve('protobufjs', {
      paths: [path.dirname(require.resolve('@grpc/proto-loader'))],
    }));
    const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
    root.resolveAll();
    loaded = { definition, AudioProcessor, root, protobuf };
  }
  return loaded;
}

// The protobufjs reflection of message type `name` ('audioproc.v1.Gain').
function messageType(name) { return load().root.lookupType(name); }

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

// ---------------------------------------------------------------------------------------------
// Chains

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

// ---------------------------------------------------------------------------------------------
// WAV files

// Reads a 16-bit PCM WAV file (WAVE_FORMAT_PCM, or EXTENSIBLE with the PCM subformat) into
// {data: Buffer of interleaved s16le, sampleRateHz, channels}. Throws for anything else.
function readWav(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' ||
      bytes.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a RIFF/WAVE file`);
  }
  let format = null;
  let data = null;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = bytes.subarray(at + 8, Math.min(at + 8 + size, bytes.length));
    if (id === 'fmt ') {
      if (body.length < 16) throw new Error(`${file}: short fmt chunk`);
      let tag = body.readUInt16LE(0);
      if (tag === 0xfffe && body.length >= 26) tag = body.readUInt16LE(24);  // SubFormat GUID
      format = {
        tag, channels: body.readUInt16LE(2), sampleRateHz: body.readUInt32LE(4),
        bits: body.readUInt16LE(14),
      };
    } else if (id === 'data') {
      data = body;  // A streaming writer's oversized length is cut to the file.
      break;
    }
    at += 8 + size + (size & 1);  // Chunks are padded to even sizes.
  }
  if (format === null || data === null) throw new Error(`${file}: no fmt or data chunk`);
  if (format.tag !== 1 || format.bits !== 16) {
    throw new Error(`${file}: format ${format.tag}, ${format.bits}-bit; only 16-bit PCM WAV ` +
                    'is supported');
  }
  if (format.channels < 1 || format.sampleRateHz < 1) throw new Error(`${file}: bad fmt chunk`);
  const frameBytes = 2 * format.channels;
  return {
    data: data.subarray(0, data.length - (data.length % frameBytes)),
    sampleRateHz: format.sampleRateHz,
    channels: format.channels,
  };
}

// Writes {data, sampleRateHz, channels} (interleaved s16le) as a 16-bit PCM WAV file.
function writeWav(file, { data, sampleRateHz, channels }) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);  // WAVE_FORMAT_PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRateHz, 24);
  header.writeUInt32LE(sampleRateHz * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  const padding = data.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  fs.writeFileSync(file, Buffer.concat([header, data, padding]));
}

// ---------------------------------------------------------------------------------------------
// Streaming

// A Process stream that ended with a non-OK status: `code` (grpc.status), `details`, and
// `result`, what was answered before the error.
class StreamError extends Error {
  constructor(status, result) {
    super(`${grpc.status[status.code] ?? status.code}: ${status.details}`);
    this.name = 'StreamError';
    this.code = status.code;
    this.details = status.details;
    this.metadata = status.metadata;
    this.result = result;
  }
}

// A client of the AudioProcessor service at `address` (host:port). Options: `tls` (system
// roots), `tlsCa` (PEM file of roots; turns TLS on), `channelOptions` (grpc-js options).
function connect(address, { tls = false, tlsCa = '', channelOptions = {} } = {}) {
  const { AudioProcessor } = load();
  const credentials = tls || tlsCa
    ? grpc.credentials.createSsl(tlsCa ? fs.readFileSync(tlsCa) : null)
    : grpc.credentials.createInsecure();
  return new AudioProcessor(address, credentials, {
    'grpc.max_receive_message_length': 64 * 1024 * 1024, ...channelOptions,
  });
}

function callOptions(timeoutS) {
  return timeoutS ? { deadline: Date.now() + timeoutS * 1000 } : {};
}

function metadataFor(token) {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

// Streams `audio` ({data, sampleRateHz, channels}, s16le) through one Process call and
// resolves to everything it answered: {ready, chunks, tail, summary, chunksSent, output,
// protocolErrors}. `chunks` holds one ProcessedChunk per input chunk (sequence i+1 answers
// chunk i), `tail` the flushed remainder, `output` all their audio; `protocolErrors` lists
// every departure from DESIGN.md section 3 ("Process, message by message") seen.
//
// `config` supplies the chain and any output, metrics, stream id or dither settings; its input
// format is set from `audio`. Chunks are `chunkFrames` frames, or if that is 0 `chunkMs`
// milliseconds (at least one frame). Writes honour backpressure: when write() returns false
// the writer waits for 'drain', so HTTP/2 flow control paces the upload. Options: `timeoutS`
// (deadline), `token` (bearer). Rejects with StreamError for a non-OK status.
async function processStream(client, config, audio,
                             { chunkMs = 20, chunkFrames = 0, timeoutS = 0, token = '' } = {}) {
  if (!(chunkFrames > 0)) {
    if (!(chunkMs > 0)) throw new Error('chunkMs or chunkFrames must be positive');
    chunkFrames = Math.max(1, Math.floor(audio.sampleRateHz * chunkMs / 1000));
  }
  const chunkBytes = chunkFrames * 2 * audio.channels;
  const request = {
    ...config,
    input: { encoding: 'PCM_S16LE', sample_rate_hz: audio.sampleRateHz, channels: audio.channels },
  };
  const result = {
    ready: null, chunks: [], tail: null, summary: null, chunksSent: 0, output: null,
    protocolErrors: [],
  };
  const errors = result.protocolErrors;
  const pieces = [];
  const call = client.Process(metadataFor(token), callOptions(timeoutS));

  call.on('data', (response) => {
    const kind = response.response;
    if (result.summary !== null) errors.push(`${kind} after the summary`);
    if (kind === 'ready') {
      if (result.ready !== null || result.chunks.length || result.tail !== null) {
        errors.push('ready is not the first response');
      }
      result.ready = response.ready;
    } else if (kind === 'chunk') {
      const chunk = response.chunk;
      if (result.ready === null) errors.push('a chunk before ready');
      if (result.tail !== null) errors.push('a chunk after the tail');
      if (chunk.tail) {
        result.tail = chunk;
      } else {
        result.chunks.push(chunk);
        const want = result.chunks.length;
        if (chunk.metrics?.sequence !== want) {
          errors.push(`chunk response ${want} has sequence ${chunk.metrics?.sequence}`);
        }
      }
      pieces.push(chunk.data);
    } else if (kind === 'summary') {
      if (result.tail === null) errors.push('summary before the tail');
      result.summary = response.summary;
    } else {
      errors.push('a response with nothing set');
    }
  });
  // The status, once every response before it has been read: grpc-js emits 'status' (and
  // 'error' for a failure) when the status arrives, and 'end' only after the last 'data'.
  const finished = new Promise((resolve) => {
    let status = null;
    let ended = false;
    const settle = () => { if (status !== null && ended) resolve(status); };
    call.on('status', (s) => { status = s; settle(); });
    call.on('error', () => {});  // Reported through 'status'.
    call.on('end', () => { ended = true; settle(); });
    call.on('close', () => { ended = true; settle(); });
  });
  let done = false;
  const statusArrived = new Promise((resolve) => call.once('status', resolve));
  statusArrived.then(() => { done = true; });

  const write = async (message) => {
    if (done) return false;
    if (!call.write(message)) {
      // Backpressure: wait until grpc-js has passed the buffered messages on, or the call ended
      // (then 'drain' never comes; once() also rejects on 'error').
      await Promise.race([once(call, 'drain'), statusArrived]).catch(() => {});
    }
    return !done;
  };
  const writer = (async () => {
    if (!(await write({ config: request }))) return;
    for (let offset = 0; offset < audio.data.length; offset += chunkBytes) {
      const sequence = result.chunksSent + 1;
      result.chunksSent = sequence;
      if (!(await write({ chunk: { data: audio.data.subarray(offset, offset + chunkBytes),
                                   sequence } }))) {
        return;
      }
    }
    if (!done) call.end();  // Half-close: the end of the input.
  })();

  const [status] = await Promise.all([finished, writer]);
  result.output = Buffer.concat(pieces);
  if (status.code !== grpc.status.OK) throw new StreamError(status, result);
  if (result.chunks.length !== result.chunksSent) {
    errors.push(`${result.chunks.length} chunk responses for ${result.chunksSent} chunks`);
  }
  if (result.tail === null) errors.push('no tail');
  if (result.summary === null) errors.push('no summary');
  return result;
}

// The output of a processStream result as {data, sampleRateHz, channels}, in the format
// StreamReady announced; throws unless that is PCM_S16LE.
function outputAudio(result) {
  const format = result.ready?.output;
  if (!format) throw new Error('the stream never became ready');
  if (format.encoding !== 'PCM_S16LE') {
    throw new Error(`output is ${format.encoding}; only PCM_S16LE can be written as WAV`);
  }
  return { data: result.output, sampleRateHz: format.sample_rate_hz, channels: format.channels };
}

// Every processor the server offers, with each parameter's type, unit, default and range.
function listProcessors(client, { timeoutS = 0, token = '' } = {}) {
  return new Promise((resolve, reject) => {
    client.ListProcessors({}, metadataFor(token), callOptions(timeoutS), (error, response) => {
      if (error) reject(error);
      else resolve(response);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `usage: node clients/node/audioproc_client.js [options]
Streams a 16-bit PCM WAV file through an audioproc server (Process), or lists its processors.
  --addr=HOST:PORT     server address (default localhost:50051)
  --input=FILE         16-bit PCM WAV file to stream
  --output=FILE        where to write the processed audio (16-bit PCM WAV)
  --chain=CHAIN        one-line 'highpass:cutoff_hz=80,limiter:ceiling_db=-1', or proto3 JSON:
                       a chain '[{"highpass":{"cutoffHz":80}}]' or a StreamConfig '{"chain":[...]}'
  --chunk_ms=N         milliseconds per chunk (default 20)
  --chunk_frames=N     frames per chunk; non-zero overrides --chunk_ms
  --stream_id=ID       stream id; empty: the server assigns one
  --timeout_s=S        call deadline in seconds; 0: none
  --token=T            bearer token (default: $AUDIOPROC_TOKEN)
  --tls, --tls_ca=PEM  TLS with the system's roots, or with these roots
  --list               print the server's processors and their parameters
  --json               print the summary (or --list) as proto3 JSON
  --help               this text`;

function number(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

function printProcessors(response) {
  const header = ['parameter', 'type', 'unit', 'default', 'range', 'runtime', 'summary'];
  const tables = response.processors.map((processor) => [processor, processor.parameters.map(
    (p) => [p.name, p.type, p.unit || '-',
            p.required ? 'required' : (p.default_value != null ? number(p.default_value) : '-'),
            p.allowed_values.length ? p.allowed_values.join('|')
              : `${number(p.min)}..${number(p.max)}`,
            p.runtime_updatable ? 'yes' : 'no', p.summary])]);
  const widths = header.slice(0, -1).map((h) => h.length);
  for (const [, rows] of tables) {
    for (const row of rows) widths.forEach((w, i) => { widths[i] = Math.max(w, row[i].length); });
  }
  const line = (row) => `  ${widths.map((w, i) => row[i].padEnd(w + 2)).join('')}${row.at(-1)}`;
  const out = [line(header)];
  for (const [processor, rows] of tables) {
    out.push(`${processor.name}: ${processor.summary}`, ...rows.map(line));
  }
  console.log(out.join('\n'));
}

function printResult(result, roundTripS) {
  const { ready, summary: s } = result;
  if (ready) {
    const f = ready.output;
    console.log(`stream ${ready.stream_id}: output ${f.encoding} ${f.sample_rate_hz} Hz ` +
                `${f.channels} ch, latency ${ready.latency_frames} frames`);
    console.log(`chain: ${ready.chain.length ? formatChain(ready.chain) : '(empty)'}`);
  }
  if (!s) return;
  console.log(`frames in/out: ${s.frames_in} / ${s.frames_out} (${s.audio_seconds.toFixed(3)} s ` +
              `of audio), chunks: ${s.chunks}`);
  console.log(`wall time: ${s.wall_seconds.toFixed(3)} s, real-time factor: ` +
              `${s.real_time_factor.toFixed(4)}`);
  for (const t of s.processors) {
    console.log(`  ${t.name.padEnd(12)} ${(t.seconds * 1e3).toFixed(3).padStart(10)} ms`);
  }
  console.log(`clipped samples: ${s.clipped_samples}, non-finite input samples: ` +
              `${s.nonfinite_samples}`);
  if (s.integrated_lufs != null) {
    console.log(`integrated loudness: ${s.integrated_lufs.toFixed(1)} LUFS`);
  }
  console.log(`client round trip: ${roundTripS.toFixed(3)} s`);
}

async function stream(args, client, options) {
  if (!args.input) throw new Error('--input is required (or --list)');
  let config;
  try {
    config = parseStreamConfig(args.chain ?? '');
  } catch (error) {
    if (error instanceof ChainError) throw new Error(`--chain: ${error.message}`);
    throw error;
  }
  if (args.stream_id) config.stream_id = args.stream_id;
  const audio = readWav(args.input);
  const wanted = config.input ?? {};
  if (![undefined, 'ENCODING_UNSPECIFIED', 'PCM_S16LE'].includes(wanted.encoding) ||
      ![undefined, 0, audio.sampleRateHz].includes(wanted.sample_rate_hz) ||
      ![undefined, 0, audio.channels].includes(wanted.channels)) {
    throw new Error(`--chain's StreamConfig.input says ${JSON.stringify(wanted)} but ${
      args.input} is PCM_S16LE ${audio.sampleRateHz} Hz ${audio.channels} ch`);
  }
  if (args.output &&
      ![undefined, 'ENCODING_UNSPECIFIED', 'PCM_S16LE'].includes(config.output?.encoding)) {
    throw new Error('--output is written as 16-bit PCM WAV: leave output.encoding unset');
  }
  const started = process.hrtime.bigint();
  const result = await processStream(client, config, audio, {
    chunkMs: Number(args.chunk_ms ?? 20), chunkFrames: Number(args.chunk_frames ?? 0), ...options,
  });
  if (args.json) {
    if (result.summary) {
      console.log(JSON.stringify(toProto3Json(`${PACKAGE}.StreamSummary`, result.summary),
                                 null, 2));
    }
  } else {
    printResult(result, Number(process.hrtime.bigint() - started) / 1e9);
  }
  if (result.protocolErrors.length) {
    throw new Error(`protocol error: ${result.protocolErrors.join('; ')}`);
  }
  if (args.output) {
    writeWav(args.output, outputAudio(result));
    if (!args.json) console.log(`wrote ${args.output}`);
  }
}

// The command line; resolves to the exit code (0, or 1 after printing the error).
async function main(argv = process.argv.slice(2)) {
  let args;
  try {
    ({ values: args } = parseArgs({
      args: argv,
      options: {
        addr: { type: 'string', default: 'localhost:50051' }, input: { type: 'string' },
        output: { type: 'string' }, chain: { type: 'string', default: '' },
        chunk_ms: { type: 'string', default: '20' }, chunk_frames: { type: 'string', default: '0' },
        stream_id: { type: 'string', default: '' }, timeout_s: { type: 'string', default: '0' },
        token: { type: 'string', default: process.env.AUDIOPROC_TOKEN ?? '' },
        tls: { type: 'boolean', default: false }, tls_ca: { type: 'string', default: '' },
        list: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`error: ${error.message}\n${USAGE}`);
    return 1;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  for (const flag of ['chunk_ms', 'chunk_frames', 'timeout_s']) {
    if (!/^\d+(\.\d+)?$/.test(args[flag])) {
      console.error(`error: --${flag}=${args[flag]} is not a non-negative number`);
      return 1;
    }
  }
  if (Number(args.chunk_ms) <= 0 && Number(args.chunk_frames) <= 0) {
    console.error('error: --chunk_ms or --chunk_frames must be positive');
    return 1;
  }
  const options = { timeoutS: Number(args.timeout_s), token: args.token };
  let client = null;
  try {
    client = connect(args.addr, { tls: args.tls, tlsCa: args.tls_ca });
    if (args.list) {
      const response = await listProcessors(client, options);
      if (args.json) {
        console.log(JSON.stringify(
          toProto3Json(`${PACKAGE}.ListProcessorsResponse`, response), null, 2));
      } else {
        printProcessors(response);
      }
    } else {
      await stream(args, client, options);
    }
    return 0;
  } catch (error) {
    if (typeof error.code === 'number' && error.details !== undefined) {  // a gRPC status
      const answered = error.result?.ready
        ? ` (${error.result.chunks.length} of ${error.result.chunksSent} chunks answered)` : '';
      console.error(`${grpc.status[error.code] ?? error.code}: ${error.details}${answered}`);
    } else {
      console.error(`error: ${error.message}`);
    }
    return 1;
  } finally {
    client?.close();
  }
}

module.exports = {
  ChainError,
  StreamError,
  PROTO_PATH,
  connect,
  formatChain,
  listProcessors,
  load,
  outputAudio,
  parseChain,
  parseStreamConfig,
  processStream,
  readWav,
  toProto3Json,
  writeWav,
};

if (require.main === module) {
  main().then((code) => { process.exitCode = code; });
}
