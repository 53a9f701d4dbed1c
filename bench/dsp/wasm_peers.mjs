#!/usr/bin/env node
// The npm WASM peers of `make bench-dsp` (issue 13), called by run_dsp_bench.py:
//
//   node bench/dsp/wasm_peers.mjs --peer rnnoise --jobs jobs.tsv
//   node bench/dsp/wasm_peers.mjs --peer fvad [--mode 0..3] --jobs jobs.tsv
//
// jobs.tsv: one job per line, `in.f32<TAB>out.f32<TAB>out_vad.txt` (empty lines and lines
// starting with # are skipped). in.f32 is raw little-endian float32 mono audio at 48 kHz in
// [-1, 1]. rnnoise writes out.f32 (denoised, same length as the input and time-aligned to it)
// and out_vad.txt (one voice probability per 10 ms input frame); fvad writes out_vad.txt only
// (one 0/1 per 10 ms frame, mode 3 unless --mode) and takes `-` for out.f32. Both write
// ceil(samples / 480) VAD lines. At the end it prints to stderr the audio seconds processed
// and the wall seconds it took (and the CPU seconds: the bench machine is shared). Any error:
// a message on stderr and exit status 1 (2 for usage).
import { readFileSync, writeFileSync } from 'node:fs';
import { createFvadPeer } from './fvad_peer.mjs';
import { createRnnoisePeer } from './rnnoise_peer.mjs';

const kSampleRateHz = 48000;
const kUsage = 'usage: wasm_peers.mjs --peer rnnoise|fvad [--mode 0..3 (fvad)] --jobs jobs.tsv';

class UsageError extends Error {}

function parseArgs(argv) {
  const args = { peer: null, jobs: null, mode: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const key = { '--peer': 'peer', '--jobs': 'jobs', '--mode': 'mode' }[a];
    if (!key) throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
    if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
    args[key] = argv[++i];
  }
  if (!args.peer) throw new UsageError('--peer is required');
  if (!args.jobs) throw new UsageError('--jobs is required');
  if (args.peer !== 'rnnoise' && args.peer !== 'fvad') {
    throw new UsageError(`unknown peer ${JSON.stringify(args.peer)} (rnnoise or fvad)`);
  }
  if (args.mode !== null) {
    if (args.peer !== 'fvad') throw new UsageError('--mode applies to fvad only');
    if (!/^[0-3]$/.test(args.mode)) throw new UsageError(`--mode must be 0..3, not ${args.mode}`);
  }
  args.mode = args.mode === null ? 3 : Number(args.mode);
  return args;
}

function readJobs(path, peer) {
  const jobs = [];
  readFileSync(path, 'utf8').split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) return;
    const fields = line.split('\t');
    const where = `${path}:${index + 1}`;
    if (fields.length !== 3 || fields.some((f) => f === '')) {
      throw new Error(`${where}: expected in.f32<TAB>out.f32<TAB>out_vad.txt`);
    }
    const [input, output, vad] = fields;
    if (peer === 'fvad' && output !== '-') throw new Error(`${where}: fvad writes no audio; out.f32 must be -`);
    if (peer === 'rnnoise' && output === '-') throw new Error(`${where}: rnnoise needs an out.f32`);
    jobs.push({ input, output, vad });
  });
  return jobs;
}

// Raw little-endian float32 (the hosts Node runs on here are little-endian). Copied so that the
// samples are aligned whatever offset the file's Buffer has in Node's pool.
function readF32(path) {
  const bytes = readFileSync(path);
  if (bytes.length % 4 !== 0) throw new Error(`${path}: ${bytes.length} bytes, not whole float32 samples`);
  const samples = new Float32Array(bytes.length / 4);
  new Uint8Array(samples.buffer).set(bytes);
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) throw new Error(`${path}: sample ${i} is not finite`);
  }
  return samples;
}

function writeF32(path, samples) {
  writeFileSync(path, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
}

function writeLines(path, values, format) {
  let text = '';
  for (let i = 0; i < values.length; i++) text += format(values[i]) + '\n';
  writeFileSync(path, text);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const jobs = readJobs(args.jobs, args.peer);
  const peer = args.peer === 'rnnoise' ? await createRnnoisePeer() : await createFvadPeer(args.mode);

  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let samples = 0;
  for (const job of jobs) {
    const input = readF32(job.input);
    samples += input.length;
    const result = peer.process(input);
    if (args.peer === 'rnnoise') {
      writeF32(job.output, result.out);
      writeLines(job.vad, result.vad, (p) => p.toFixed(6));
    } else {
      writeLines(job.vad, result.vad, String);
    }
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuUsage = process.cpuUsage(cpu0);
  const cpu = (cpuUsage.user + cpuUsage.system) / 1e6;
  const audio = samples / kSampleRateHz;
  const speed = wall > 0 ? (audio / wall).toFixed(1) : 'inf';
  process.stderr.write(`wasm_peers ${args.peer}: ${jobs.length} jobs, ${audio.toFixed(3)} s of audio ` +
                       `in ${wall.toFixed(3)} s wall (${speed}x real time), ${cpu.toFixed(3)} s CPU\n`);
}

main().catch((e) => {
  const usage = e instanceof UsageError;
  process.stderr.write(`wasm_peers: ${e.message}\n${usage ? kUsage + '\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
