// The service's sample encodings and raw PCM formats (`--format s16le:16000:1`).
'use strict';

// Bytes per sample of each encoding (proto enum value names).
const SAMPLE_BYTES = {
  PCM_S16LE: 2, PCM_S24LE: 3, PCM_S32LE: 4, PCM_F32LE: 4, MULAW: 1, ALAW: 1,
};
// Short names, as the C++ tools take them (clients/pcm.cc) plus the `le` spellings.
const SHORT_NAMES = {
  s16: 'PCM_S16LE', s16le: 'PCM_S16LE', s24: 'PCM_S24LE', s24le: 'PCM_S24LE',
  s32: 'PCM_S32LE', s32le: 'PCM_S32LE', f32: 'PCM_F32LE', f32le: 'PCM_F32LE',
  mulaw: 'MULAW', ulaw: 'MULAW', alaw: 'ALAW',
};

// The encoding named `name`: a short name (s16le, s24le, s32le, f32le, mulaw, alaw; s16...)
// or the proto's (PCM_S16LE...), any case. Throws for anything else.
function parseEncoding(name) {
  const short = SHORT_NAMES[name.toLowerCase()];
  if (short) return short;
  const upper = name.toUpperCase();
  if (Object.hasOwn(SAMPLE_BYTES, upper)) return upper;
  throw new Error(`unknown encoding '${name}' (s16le, s24le, s32le, f32le, mulaw, alaw, or ` +
                  'PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, ALAW)');
}

// `ENCODING:RATE:CHANNELS` (e.g. `s16le:16000:1`) as an AudioFormat. Throws for a bad one.
function parseFormat(text) {
  const parts = text.split(':');
  if (parts.length !== 3) {
    throw new Error(`'${text}' is not ENCODING:RATE:CHANNELS (e.g. s16le:16000:1)`);
  }
  const [encoding, rate, channels] = parts;
  if (!/^\d+$/.test(rate) || Number(rate) < 1) {
    throw new Error(`'${text}': sample rate '${rate}' is not a positive whole number`);
  }
  if (!/^\d+$/.test(channels) || Number(channels) < 1) {
    throw new Error(`'${text}': channels '${channels}' is not a positive whole number`);
  }
  return {
    encoding: parseEncoding(encoding), sample_rate_hz: Number(rate), channels: Number(channels),
  };
}

// Bytes per interleaved frame of AudioFormat `format`; 0 if it is incomplete.
function bytesPerFrame(format) {
  return (SAMPLE_BYTES[format?.encoding] ?? 0) * (format?.channels ?? 0);
}

// As the C++ tools print a format: "16000 Hz, 1 ch, PCM_S16LE".
function formatToString(format) {
  return `${format.sample_rate_hz ?? 0} Hz, ${format.channels ?? 0} ch, ${
    format.encoding ?? 'ENCODING_UNSPECIFIED'}`;
}

module.exports = { SAMPLE_BYTES, bytesPerFrame, formatToString, parseEncoding, parseFormat };
