// WAV files: read into the PCM the service takes, written as the C++ client writes them.
//
// Reading follows the C++ client (clients/audio_file.cc, through libsndfile): 16-bit PCM is
// sent as PCM_S16LE; 8-, 24- and 32-bit PCM and 32- and 64-bit float as PCM_F32LE, integers
// scaled by 2^(bits-1) as libsndfile does. Writing gives the bytes libsndfile gives for the
// same samples: a 44-byte header for PCM_S16LE, PCM_S24LE and PCM_S32LE; for PCM_F32LE a
// `fact` chunk and a `PEAK` chunk (whose 4-byte timestamp is the time of writing, as
// libsndfile's is: two writes agree except there); MULAW and ALAW an 18-byte fmt and `fact`.
'use strict';

const fs = require('node:fs');

const { SAMPLE_BYTES, bytesPerFrame } = require('./pcm');

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

// The chunks of RIFF/WAVE `bytes`, [{id, body}]; `name` labels errors.
function chunksOf(bytes, name) {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' ||
      bytes.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error(`${name}: not a RIFF/WAVE file`);
  }
  const chunks = [];
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    // A streaming writer's oversized length is cut to the file.
    chunks.push({ id, body: bytes.subarray(at + 8, Math.min(at + 8 + size, bytes.length)) });
    if (id === 'data') break;
    at += 8 + size + (size & 1);  // Chunks are padded to even sizes.
  }
  return chunks;
}

// Float32 samples of integer or float `data` (little-endian), as libsndfile reads them.
function toFloat32(data, tag, bits) {
  const bytes = bits / 8;
  const count = Math.floor(data.length / bytes);
  const out = Buffer.alloc(count * 4);
  for (let i = 0; i < count; ++i) {
    const at = i * bytes;
    let value;
    if (tag === WAVE_FORMAT_IEEE_FLOAT) {
      value = bits === 32 ? data.readFloatLE(at) : data.readDoubleLE(at);
    } else if (bits === 8) {
      value = (data[at] - 128) / 128;
    } else if (bits === 24) {
      value = data.readIntLE(at, 3) / 8388608;
    } else {
      value = Math.fround(data.readInt32LE(at)) / 2147483648;
    }
    out.writeFloatLE(value, 4 * i);
  }
  return out;
}

// A WAV file's bytes as {data, format: AudioFormat}: interleaved PCM_S16LE for 16-bit PCM,
// PCM_F32LE for every other PCM or float file. Whole frames only. `name` labels errors.
function decodeWav(bytes, name = 'WAV') {
  let format = null;
  let data = null;
  for (const { id, body } of chunksOf(bytes, name)) {
    if (id === 'fmt ') {
      if (body.length < 16) throw new Error(`${name}: short fmt chunk`);
      let tag = body.readUInt16LE(0);
      if (tag === WAVE_FORMAT_EXTENSIBLE && body.length >= 26) tag = body.readUInt16LE(24);
      format = {
        tag, channels: body.readUInt16LE(2), rate: body.readUInt32LE(4),
        bits: body.readUInt16LE(14),
      };
    } else if (id === 'data') {
      data = body;
    }
  }
  if (format === null || data === null) throw new Error(`${name}: no fmt or data chunk`);
  const { tag, channels, rate, bits } = format;
  const pcm = tag === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bits);
  const float = tag === WAVE_FORMAT_IEEE_FLOAT && [32, 64].includes(bits);
  if (!pcm && !float) {
    throw new Error(`${name}: WAV format ${tag}, ${bits}-bit is not supported (8-, 16-, 24- ` +
                    'or 32-bit PCM, or 32- or 64-bit float)');
  }
  if (channels < 1 || rate < 1) throw new Error(`${name}: bad fmt chunk`);
  const frameBytes = (bits / 8) * channels;
  const whole = data.subarray(0, data.length - (data.length % frameBytes));
  if (tag === WAVE_FORMAT_PCM && bits === 16) {
    return { data: whole, format: { encoding: 'PCM_S16LE', sample_rate_hz: rate, channels } };
  }
  return {
    data: toFloat32(whole, tag, bits),
    format: { encoding: 'PCM_F32LE', sample_rate_hz: rate, channels },
  };
}

// Reads WAV file `file`; see decodeWav.
function readWav(file) { return decodeWav(fs.readFileSync(file), file); }

// PEAK chunk body: version, timestamp, then per channel the largest |sample| and the frame
// it is first reached at (libsndfile's, for float WAVs).
function peakChunk(data, channels, timestamp) {
  const body = Buffer.alloc(8 + 8 * channels);
  body.writeUInt32LE(1, 0);
  body.writeUInt32LE(timestamp >>> 0, 4);
  const frames = Math.floor(data.length / (4 * channels));
  for (let c = 0; c < channels; ++c) {
    let peak = 0;
    let position = 0;
    for (let f = 0; f < frames; ++f) {
      const value = Math.abs(data.readFloatLE(4 * (f * channels + c)));
      if (value > peak) {
        peak = value;
        position = f;
      }
    }
    body.writeFloatLE(peak, 8 + 8 * c);
    body.writeUInt32LE(position, 12 + 8 * c);
  }
  return body;
}

function chunk(id, body) {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return [head, body];
}

// {data, format} (interleaved PCM in AudioFormat `format`) as the bytes of a WAV file, as
// libsndfile writes it. Options: `timestamp` (seconds since the epoch) for a float file's
// PEAK chunk; default now.
function encodeWav({ data, format }, { timestamp = Math.floor(Date.now() / 1000) } = {}) {
  const { encoding, sample_rate_hz: rate, channels } = format;
  const frameBytes = bytesPerFrame(format);
  if (frameBytes === 0 || !(rate > 0)) {
    throw new Error(`cannot write ${JSON.stringify(format)} as WAV: incomplete format`);
  }
  if (data.length % frameBytes !== 0) {
    throw new Error(`${data.length} bytes is not a whole number of ${frameBytes}-byte frames`);
  }
  const sampleBytes = SAMPLE_BYTES[encoding];
  const frames = data.length / frameBytes;
  const fmt = Buffer.alloc(sampleBytes === 1 ? 18 : 16);  // G.711's ends with cbSize 0.
  fmt.writeUInt16LE({ PCM_F32LE: WAVE_FORMAT_IEEE_FLOAT, MULAW: WAVE_FORMAT_MULAW,
                      ALAW: WAVE_FORMAT_ALAW }[encoding] ?? WAVE_FORMAT_PCM, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * frameBytes, 8);
  fmt.writeUInt16LE(frameBytes, 12);
  fmt.writeUInt16LE(8 * sampleBytes, 14);
  const parts = [...chunk('fmt ', fmt)];
  if (encoding === 'PCM_F32LE' || sampleBytes === 1) {
    const fact = Buffer.alloc(4);
    fact.writeUInt32LE(frames, 0);
    parts.push(...chunk('fact', fact));
  }
  if (encoding === 'PCM_F32LE') parts.push(...chunk('PEAK', peakChunk(data, channels, timestamp)));
  parts.push(...chunk('data', data));
  if (data.length & 1) parts.push(Buffer.alloc(1));  // Padded to an even size.
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...parts]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

// Writes {data, format} to `file` as WAV; see encodeWav.
function writeWav(file, audio, options) { fs.writeFileSync(file, encodeWav(audio, options)); }

module.exports = { decodeWav, encodeWav, readWav, writeWav };
