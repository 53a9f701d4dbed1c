// audioproc-node, the command line: the same core flags as the C++ audioproc-client
// (clients/client_main.cc), and byte-identical output files.
'use strict';

const fs = require('node:fs');
const { once } = require('node:events');
const { parseArgs } = require('node:util');

const { ChainError, formatChain, parseStreamConfig, toProto3Json } = require('./chain');
const { connect } = require('./client');
const { AudioprocError } = require('./errors');
const { bytesPerFrame, formatToString, parseEncoding, parseFormat } = require('./pcm');
const { PACKAGE } = require('./proto');
const { encodeWav, readWav } = require('./wav');

const PROGRAM = 'audioproc-node';
const USAGE = `usage: ${PROGRAM} [options]
Streams audio through an audioproc server (Process) and writes the result, or lists its
processors. Flags take --flag=value or --flag value.
  --addr=HOST:PORT       server address (default localhost:50051)
  --input=FILE|-         WAV file to stream (16-bit PCM is sent as PCM_S16LE, other PCM and
                         float as PCM_F32LE); -: raw PCM from stdin, in --format
  --format=ENC:RATE:CH   the raw input's format, e.g. s16le:16000:1 (ENC: s16le, s24le,
                         s32le, f32le, mulaw, alaw)
  --output=FILE|-        where to write the processed audio: a .wav file, in the format the
                         server reports; -: raw PCM to stdout (the summary goes to stderr)
  --chain=CHAIN          one-line 'highpass:cutoff_hz=80,limiter:ceiling_db=-1', or proto3 JSON:
                         a chain '[{"highpass":{"cutoffHz":80}}]' or a StreamConfig
                         '{"chain":[...]}'
  --chunk_ms=N           milliseconds of input per chunk (default 20)
  --chunk_frames=N       frames per chunk; non-zero overrides --chunk_ms
  --realtime             send chunks at the pace of the audio, as a live source would
  --stream_id=ID         stream id; empty: the server assigns one
  --output_rate=HZ, --output_channels=N, --output_encoding=ENC, --dither
                         output format overrides (0 or empty: the input's), TPDF dither
  --timeout_s=S          call deadline in seconds; 0: none
  --token=T              bearer token (default: $AUDIOPROC_TOKEN)
  --tls                  TLS, verifying the server with the system's roots
  --tls_ca=PEM           roots to verify the server with; turns TLS on
  --tls_cert=PEM, --tls_key=PEM
                         client certificate and key, for mutual TLS
  --list                 print the server's processors and their parameters
  --json                 print the summary (or --list) as proto3 JSON
  --help                 this text`;

const OPTIONS = {
  addr: { type: 'string', default: 'localhost:50051' },
  input: { type: 'string', default: '' },
  format: { type: 'string', default: '' },
  output: { type: 'string', default: '' },
  chain: { type: 'string', default: '' },
  chunk_ms: { type: 'string', default: '20' },
  chunk_frames: { type: 'string', default: '0' },
  realtime: { type: 'boolean', default: false },
  stream_id: { type: 'string', default: '' },
  output_rate: { type: 'string', default: '0' },
  output_channels: { type: 'string', default: '0' },
  output_encoding: { type: 'string', default: '' },
  dither: { type: 'boolean', default: false },
  timeout_s: { type: 'string', default: '0' },
  token: { type: 'string', default: '' },
  tls: { type: 'boolean', default: false },
  tls_ca: { type: 'string', default: '' },
  tls_cert: { type: 'string', default: '' },
  tls_key: { type: 'string', default: '' },
  list: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
};

// A failure with a status code name, printed as `audioproc-node: CODE: message`.
class UsageError extends Error {
  constructor(message, codeName = 'INVALID_ARGUMENT') {
    super(message);
    this.codeName = codeName;
  }
}

// Flags as parseArgs reads them; `--flag=true|false` for booleans too, as Abseil takes them.
function readFlags(argv) {
  const args = [];
  for (const arg of argv) {
    const match = /^--([a-z_]+)=(true|false|1|0)$/i.exec(arg);
    if (match && OPTIONS[match[1]]?.type === 'boolean') {
      if (/^(true|1)$/i.test(match[2])) args.push(`--${match[1]}`);
    } else {
      args.push(arg);
    }
  }
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  for (const flag of ['chunk_ms', 'chunk_frames', 'output_rate', 'output_channels']) {
    if (!/^\d+$/.test(values[flag])) {
      throw new UsageError(`--${flag}=${values[flag]} is not a whole number`);
    }
  }
  if (!/^\d+(\.\d+)?$/.test(values.timeout_s)) {
    throw new UsageError(`--timeout_s=${values.timeout_s} is not a non-negative number`);
  }
  if (Number(values.chunk_ms) === 0 && Number(values.chunk_frames) === 0) {
    throw new UsageError('--chunk_ms or --chunk_frames must be positive');
  }
  return values;
}

// A number as C++'s %g prints it.
function number(value) {
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const text = value.toPrecision(6);
  if (text.includes('e')) {
    const [mantissa, exponent] = text.split('e');
    const m = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    const e = Number(exponent);
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

// ListProcessors as the C++ client prints it: one row per parameter under its processor.
function formatProcessors(response) {
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
  return `${out.join('\n')}\n`;
}

// The stream's outcome as the C++ client prints it.
function formatResult({ ready, summary: s, latencies }) {
  const out = [];
  if (ready) {
    out.push(`stream ${ready.stream_id}: output ${formatToString(ready.output)}, latency ${
      ready.latency_frames} frames`);
    out.push(`chain: ${ready.chain.length ? formatChain(ready.chain) : '(empty)'}`);
  }
  if (s) {
    out.push(`frames in/out: ${s.frames_in} / ${s.frames_out} (${s.audio_seconds.toFixed(3)} s ` +
             `of audio), chunks: ${s.chunks}`);
    out.push(`wall time: ${s.wall_seconds.toFixed(3)} s, real-time factor: ${
      s.real_time_factor.toFixed(4)}`);
    for (const t of s.processors) {
      out.push(`  ${t.name.padEnd(12)} ${(t.seconds * 1e3).toFixed(3).padStart(10)} ms`);
    }
    out.push(`clipped samples: ${s.clipped_samples}, non-finite input samples: ${
      s.nonfinite_samples}`);
    if (s.integrated_lufs != null) {
      out.push(`integrated loudness: ${s.integrated_lufs.toFixed(1)} LUFS`);
    }
    if (s.discarded_bytes > 0) {
      out.push(`discarded: ${s.discarded_bytes} bytes of an incomplete last frame`);
    }
    if (s.dropped_events > 0) out.push(`dropped events: ${s.dropped_events}`);
    if (latencies.length) {
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q) => sorted[Math.floor(q * (sorted.length - 1))].toFixed(2);
      out.push(`chunk round trip: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

async function writeOut(stream, data) {
  if (!stream.write(data)) await once(stream, 'drain');
}

// The StreamConfig of the flags, its input format set from the file (or --format).
function streamConfig(args) {
  let config;
  try {
    config = parseStreamConfig(args.chain);
  } catch (error) {
    if (error instanceof ChainError) throw new UsageError(`--chain: ${error.message}`);
    throw error;
  }
  if (args.stream_id) config.stream_id = args.stream_id;
  const output = { ...config.output };
  if (Number(args.output_rate)) output.sample_rate_hz = Number(args.output_rate);
  if (Number(args.output_channels)) output.channels = Number(args.output_channels);
  if (args.output_encoding) output.encoding = parseEncoding(args.output_encoding);
  if (Object.keys(output).length) config.output = output;
  if (args.dither) config.dither = 'DITHER_TPDF';
  return config;
}

// The input: {source, format} of a WAV file, or of stdin in --format.
function openInput(args, config) {
  const wanted = config.input ?? {};
  if (args.input === '-') {
    let format = wanted;
    if (args.format) format = parseFormat(args.format);
    if (!bytesPerFrame(format) || !format.sample_rate_hz) {
      throw new UsageError('--input - needs --format ENCODING:RATE:CHANNELS (e.g. s16le:16000:1)');
    }
    return { source: process.stdin, format };
  }
  let audio;
  try {
    audio = readWav(args.input);
  } catch (error) {
    if (error.code === 'ENOENT') {
      throw new UsageError(`cannot open '${args.input}': ${error.message}`, 'NOT_FOUND');
    }
    throw new UsageError(error.message);
  }
  const { format } = audio;
  if (![undefined, 'ENCODING_UNSPECIFIED', format.encoding].includes(wanted.encoding) ||
      ![undefined, 0, format.sample_rate_hz].includes(wanted.sample_rate_hz) ||
      ![undefined, 0, format.channels].includes(wanted.channels)) {
    throw new UsageError(`--chain's StreamConfig.input says ${formatToString(wanted)} but ${
      args.input} is ${formatToString(format)}`);
  }
  return { source: audio.data, format };
}

async function stream(args, client, stdout, stderr) {
  if (!args.input) throw new UsageError('--input is required (or --list)');
  const toStdout = args.output === '-';
  if (args.output && !toStdout && !/\.wav$/i.test(args.output)) {
    throw new UsageError(`--output ${args.output}: only .wav files (or - for raw PCM)`);
  }
  const text = toStdout ? stderr : stdout;
  const config = streamConfig(args);
  const { source, format } = openInput(args, config);
  config.input = format;
  const chunkFrames = Number(args.chunk_frames) ||
    Math.max(1, Math.floor(format.sample_rate_hz * Number(args.chunk_ms) / 1000));

  const session = client.stream(config);
  const sending = session.pipeFrom(source, {
    chunkBytes: chunkFrames * bytesPerFrame(format), realtime: args.realtime,
  });
  let ready = null;
  let summary = null;
  const latencies = [];
  const pieces = [];
  let failure = null;
  // A reader that goes away (EPIPE) ends the stream rather than the process.
  let outputError = null;
  const onOutputError = (error) => {
    outputError ??= error;
    session.cancel();
  };
  if (toStdout) stdout.on('error', onOutputError);
  try {
    for await (const response of session) {
      if (outputError) break;
      if (response.response === 'ready') {
        ready = response.ready;
      } else if (response.response === 'chunk') {
        if (!response.chunk.tail) latencies.push(session.lastChunkLatencyMs);
        if (toStdout) await writeOut(stdout, response.chunk.data);
        else if (args.output) pieces.push(response.chunk.data);
      } else if (response.response === 'summary') {
        summary = response.summary;
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    if (toStdout) stdout.off('error', onOutputError);
  }
  await sending.catch((error) => { failure ??= error; });
  if (outputError) failure = new UsageError(`--output -: ${outputError.message}`, 'CANCELLED');
  if (args.json) {
    if (summary) {
      text.write(`${JSON.stringify(toProto3Json(`${PACKAGE}.StreamSummary`, summary), null, 2)}\n`);
    }
  } else {
    text.write(formatResult({ ready, summary, latencies }));
  }
  if (failure) {
    if (failure instanceof AudioprocError && ready) {
      failure.details += ` (${session.chunksAnswered} of ${session.chunksSent} chunks answered)`;
    }
    throw failure;
  }
  if (session.protocolErrors.length) {
    throw new UsageError(`the server sent ${session.protocolErrors.join('; ')}`, 'INTERNAL');
  }
  if (args.output && !toStdout) {
    fs.writeFileSync(args.output, encodeWav({ data: Buffer.concat(pieces), format: ready.output }));
    if (!args.json) text.write(`wrote ${args.output}\n`);
  }
}

// Runs the command line; resolves to the exit code (0, or 1 after printing the error).
async function main(argv = process.argv.slice(2), {
  stdout = process.stdout, stderr = process.stderr, env = process.env,
} = {}) {
  let client = null;
  try {
    const args = readFlags(argv);
    if (args.help) {
      stdout.write(`${USAGE}\n`);
      return 0;
    }
    client = connect(args.addr, {
      tls: args.tls, ca: args.tls_ca || undefined, cert: args.tls_cert || undefined,
      key: args.tls_key || undefined, token: args.token || env.AUDIOPROC_TOKEN || '',
      timeoutMs: Number(args.timeout_s) * 1000,
    });
    if (args.list) {
      const response = await client.listProcessors();
      const json = () => JSON.stringify(
        toProto3Json(`${PACKAGE}.ListProcessorsResponse`, response), null, 2);
      stdout.write(args.json ? `${json()}\n` : formatProcessors(response));
    } else {
      await stream(args, client, stdout, stderr);
    }
    return 0;
  } catch (error) {
    const codeName = error.codeName ?? (error.code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT');
    const message = error instanceof AudioprocError ? error.details : error.message;
    stderr.write(`${PROGRAM}: ${codeName}: ${message}\n`);
    return 1;
  } finally {
    client?.close();
  }
}

module.exports = { USAGE, formatProcessors, formatResult, main };
