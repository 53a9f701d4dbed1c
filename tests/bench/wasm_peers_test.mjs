// The npm WASM peers of `make bench-dsp` (bench/dsp/wasm_peers.mjs, issue 13) through the real
// script, as run_dsp_bench.py calls it: lengths and line counts (a last partial frame included),
// RNNoise's output aligned to its input (the hard-coded delay measured again), RNNoise reducing
// white noise alone by more than 10 dB and calling it not voice, fvad calling digital silence not
// voice and speech-like bursts voice, and errors exiting non-zero with a message.
// Needs .ci/install-deps --npm (@echogarden/rnnoise-wasm, @echogarden/fvad-wasm).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const kScript = join(dirname(fileURLToPath(import.meta.url)), '../../bench/dsp/wasm_peers.mjs');
const kFs = 48000;
const kFrame = 480;

let dir;
before(() => { dir = mkdtempSync(join(tmpdir(), 'wasm_peers_test-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

function run(...args) {
  const r = spawnSync(process.execPath, [kScript, ...args], { encoding: 'utf8', timeout: 60000 });
  if (r.stderr) process.stderr.write(r.stderr);
  return r;
}

// A deterministic uniform generator (LCG), so that every run tests the same audio.
function noiseGenerator(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

// Gaussian-ish white noise (sum of four uniforms) of standard deviation `sigma`.
function whiteNoise(n, sigma, seed) {
  const u = noiseGenerator(seed);
  const x = new Float32Array(n);
  const k = sigma * Math.sqrt(3);  // four uniforms of variance 1/12 each: variance 1/3
  for (let i = 0; i < n; i++) x[i] = k * (u() + u() + u() + u());
  return x;
}

// Speech-like bursts, 250 ms on, 250 ms off: a 150 Hz voice with a 3 Hz vibrato (so that its
// cross-correlation has one peak, unlike a steady tone's every period) and 60 harmonics of equal
// amplitude (so that the peak is sharp: with a 1/h spectrum lags 478..480 were within 0.2% of
// each other, and RNNoise's per-band gains and pitch filter tipped it to 478).
function voicedBursts(n) {
  const x = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / kFs;
    phase += (2 * Math.PI * (150 + 30 * Math.sin(2 * Math.PI * 3 * t))) / kFs;
    if (Math.floor(t / 0.25) % 2 !== 0) continue;
    let s = 0;
    for (let h = 1; h <= 60; h++) s += Math.sin(h * phase);
    x[i] = 0.01 * s;
  }
  return x;
}

function writeF32(name, x) {
  const path = join(dir, name);
  writeFileSync(path, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  return path;
}

function readF32(path) {
  const b = readFileSync(path);
  const x = new Float32Array(b.length / 4);
  new Uint8Array(x.buffer).set(b);
  return x;
}

function readLines(path) {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), `${path} ends with a newline`);
  return text.slice(0, -1).split('\n').map(Number);
}

function energy(x, from = 0) {
  let e = 0;
  for (let i = from; i < x.length; i++) e += x[i] * x[i];
  return e;
}

function crossCorrelation(x, y, lag) {  // sum x[i] * y[i + lag]
  let c = 0;
  for (let i = Math.max(0, -lag); i < x.length && i + lag < y.length; i++) c += x[i] * y[i + lag];
  return c;
}

const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;

// Lengths that end in a partial frame, to check the padding and the line counts.
const kSpeechSamples = 4 * kFs + 123;
const kNoiseSamples = 4 * kFs + 7;
const kSilenceSamples = 1 * kFs + 1;

let speech, speechClean, noise, silence;
before(() => {
  speechClean = voicedBursts(kSpeechSamples);
  const n = whiteNoise(kSpeechSamples, 0.01, 1);
  const mixed = new Float32Array(kSpeechSamples);
  for (let i = 0; i < kSpeechSamples; i++) mixed[i] = speechClean[i] + n[i];
  speech = writeF32('speech.f32', mixed);
  noise = writeF32('noise.f32', whiteNoise(kNoiseSamples, 0.05, 2));
  silence = writeF32('silence.f32', new Float32Array(kSilenceSamples));
});

test('rnnoise: aligned output, denoised noise, voice probabilities per frame', () => {
  const jobs = join(dir, 'rnnoise.tsv');
  const out = (name) => join(dir, name);
  writeFileSync(jobs, [
    [speech, out('speech_rn.f32'), out('speech_rn.txt')],
    [noise, out('noise_rn.f32'), out('noise_rn.txt')],
    [silence, out('silence_rn.f32'), out('silence_rn.txt')],
  ].map((j) => j.join('\t')).join('\n') + '\n');
  const r = run('--peer', 'rnnoise', '--jobs', jobs);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /s of audio in [0-9.]+ s wall/);

  for (const [name, samples] of [['speech', kSpeechSamples], ['noise', kNoiseSamples], ['silence', kSilenceSamples]]) {
    assert.equal(readF32(out(`${name}_rn.f32`)).length, samples, `${name}: output length`);
    const vad = readLines(out(`${name}_rn.txt`));
    assert.equal(vad.length, Math.ceil(samples / kFrame), `${name}: VAD lines`);
    for (const p of vad) assert.ok(p >= 0 && p <= 1, `${name}: probability ${p}`);
  }

  // Alignment: the cross-correlation of the output with the clean voice peaks at lag 0, searched
  // over +-2 frames (a delay wrong by a frame or by a sample would peak elsewhere). Over 0.5..2 s
  // (three burst edges), to keep the test short on a loaded machine.
  const y = readF32(out('speech_rn.f32')).subarray(kFs / 2, 2 * kFs);
  const clean = speechClean.subarray(kFs / 2, 2 * kFs);
  let bestLag = null;
  let best = -Infinity;
  for (let lag = -2 * kFrame; lag <= 2 * kFrame; lag++) {
    const c = crossCorrelation(clean, y, lag);
    if (c > best) { best = c; bestLag = lag; }
  }
  process.stderr.write(`rnnoise: cross-correlation peak at lag ${bestLag}\n`);
  assert.equal(bestLag, 0);

  // Voice frames (after 0.5 s to let the model settle) are called voice more than the gaps.
  const vad = readLines(out('speech_rn.txt'));
  const on = [], off = [];
  vad.forEach((p, f) => {
    if (f < 50) return;
    (Math.floor((f * kFrame) / kFs / 0.25) % 2 === 0 ? on : off).push(p);
  });
  process.stderr.write(`rnnoise: mean voice probability ${mean(on).toFixed(3)} in bursts, ${mean(off).toFixed(3)} between\n`);
  assert.ok(mean(on) > 0.5 && mean(on) > mean(off) + 0.3);

  // White noise alone: more than 10 dB quieter (after the first 0.5 s), and not voice.
  const x = readF32(noise);
  const z = readF32(out('noise_rn.f32'));
  const reductionDb = 10 * Math.log10(energy(x, kFs / 2) / energy(z, kFs / 2));
  const noiseVad = readLines(out('noise_rn.txt'));
  process.stderr.write(`rnnoise: white noise reduced by ${reductionDb.toFixed(1)} dB, mean voice probability ${mean(noiseVad).toFixed(3)} (max ${Math.max(...noiseVad).toFixed(3)})\n`);
  assert.ok(reductionDb > 10, `reduction ${reductionDb} dB`);
  // RNNoise's probability on white noise is not near 0 (here 0.03..0.47, mean 0.16, against
  // 0.96 in the voiced bursts); low means well under the bursts and rarely over one half.
  assert.ok(mean(noiseVad) < 0.25);
  assert.ok(noiseVad.filter((p) => p > 0.5).length <= 0.05 * noiseVad.length);

  // Digital silence stays silent.
  assert.equal(energy(readF32(out('silence_rn.f32'))), 0);
});

test('fvad: 0 on digital silence, 1 on voice, one line per frame', () => {
  const jobs = join(dir, 'fvad.tsv');
  const out = (name) => join(dir, name);
  writeFileSync(jobs, `${silence}\t-\t${out('silence_fv.txt')}\n${speech}\t-\t${out('speech_fv.txt')}\n`);
  for (const mode of [[], ['--mode', '0']]) {
    const r = run('--peer', 'fvad', ...mode, '--jobs', jobs);
    assert.equal(r.status, 0, r.stderr);
    const quiet = readLines(out('silence_fv.txt'));
    assert.equal(quiet.length, Math.ceil(kSilenceSamples / kFrame));
    assert.ok(quiet.every((v) => v === 0), `silence: ${quiet}`);
    const voiced = readLines(out('speech_fv.txt'));
    assert.equal(voiced.length, Math.ceil(kSpeechSamples / kFrame));
    assert.ok(voiced.every((v) => v === 0 || v === 1));
    // The middle of every burst (frames 5..19 of each 25) is mostly voice (a synthetic buzz in
    // noise, not speech: mode 3 says 0.89).
    const mids = voiced.filter((_, f) => f % 50 >= 5 && f % 50 < 20);
    process.stderr.write(`fvad ${mode.join(' ') || 'mode 3'}: ${mean(mids).toFixed(3)} of mid-burst frames voice\n`);
    assert.ok(mean(mids) > 0.8);
  }
});

test('errors exit non-zero with a message', () => {
  const good = join(dir, 'good.tsv');
  writeFileSync(good, `${silence}\t-\t${join(dir, 'e.txt')}\n`);
  const missing = join(dir, 'missing.tsv');
  writeFileSync(missing, `${join(dir, 'nope.f32')}\t-\t${join(dir, 'e.txt')}\n`);
  const badLine = join(dir, 'bad_line.tsv');
  writeFileSync(badLine, `${silence}\t${join(dir, 'e.txt')}\n`);
  const odd = join(dir, 'odd.f32');
  writeFileSync(odd, Buffer.alloc(6));
  const oddJobs = join(dir, 'odd.tsv');
  writeFileSync(oddJobs, `${odd}\t${join(dir, 'e.f32')}\t${join(dir, 'e.txt')}\n`);
  const cases = [
    [['--peer', 'speex', '--jobs', good], /unknown peer/],
    [['--jobs', good], /--peer is required/],
    [['--peer', 'fvad'], /--jobs is required/],
    [['--peer', 'fvad', '--jobs', join(dir, 'no_jobs.tsv')], /no_jobs\.tsv/],
    [['--peer', 'fvad', '--jobs', missing], /nope\.f32/],
    [['--peer', 'fvad', '--jobs', badLine], /bad_line\.tsv:1/],
    [['--peer', 'rnnoise', '--jobs', good], /rnnoise needs an out\.f32/],
    [['--peer', 'rnnoise', '--jobs', oddJobs], /not whole float32 samples/],
    [['--peer', 'fvad', '--mode', '4', '--jobs', good], /--mode must be 0\.\.3/],
    [['--peer', 'rnnoise', '--mode', '3', '--jobs', good], /fvad only/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});
