// The Node package as a user gets it: `npm pack` of clients/node, installed from the tarball
// into an empty folder, then used from there against the real audioproc-server.
//
// The package is packed from a copy of clients/node and the proto (so the source tree is never
// touched), installed with `npm install --prefer-offline` (the npm cache from the repository's
// `npm ci` serves @grpc/grpc-js and its dependencies; the registry otherwise), and required
// from the install folder. Run from the repository root, as CTest does:
//
//   AUDIOPROC_BUILD_DIR=build node --test tests/clients/node_package_test.js
'use strict';

const assert = require('node:assert/strict');
const { execFile, execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');
const { Readable } = require('node:stream');
const { after, before, describe, it } = require('node:test');
const { setTimeout: delay } = require('node:timers/promises');
const { promisify } = require('node:util');

const {
  CPP_CLIENT, ROOT, SERVER, SPEECH, ServerProcess, makeCertificates, rmsDb, sine,
} = require('./node_test_server');

const CLI_CHAIN = 'highpass:cutoff_hz=80,compressor,limiter:ceiling_db=-1';
const TOKEN = 'node-package-test-token';
const TEST_TIMEOUT_MS = 120000;

let work;        // temporary folder: src/, pack/, install/, certs/
let install;     // the folder the tarball is installed into
let audioproc;   // the installed package
let server;      // plain
let secure;      // mutual TLS and tokens
let certs;

// Copies what `npm pack` of clients/node reads: the package folder and the canonical proto.
function copySources(to) {
  const from = path.join(ROOT, 'clients', 'node');
  fs.cpSync(from, path.join(to, 'clients', 'node'), {
    recursive: true,
    filter: (p) => !/(^|\/)(node_modules|proto)(\/|$)/.test(path.relative(from, p)),
  });
  const proto = path.join('protos', 'audioproc', 'v1', 'audioproc.proto');
  fs.mkdirSync(path.dirname(path.join(to, proto)), { recursive: true });
  fs.copyFileSync(path.join(ROOT, proto), path.join(to, proto));
}

before(async () => {
  assert.ok(fs.existsSync(SERVER), `${SERVER} is not built (set AUDIOPROC_BUILD_DIR)`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodepkg-'));
  const src = path.join(work, 'src');
  copySources(src);
  fs.mkdirSync(path.join(work, 'pack'));
  const npm = (args, cwd) => execFileSync('npm', args, {
    cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000,
  });
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', path.join(work, 'pack')],
                                path.join(src, 'clients', 'node')));
  const tarball = path.join(work, 'pack', packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  for (const file of ['proto/audioproc/v1/audioproc.proto', 'index.d.ts', 'index.js',
                      'bin/audioproc-node.js', 'README.md']) {
    assert.ok(files.includes(file), `${file} is not in the tarball: ${files.join(', ')}`);
  }
  assert.ok(!fs.existsSync(path.join(src, 'clients', 'node', 'proto')), 'postpack left proto/');
  install = path.join(work, 'install');
  fs.mkdirSync(install);
  const installArgs = ['install', '--prefer-offline', '--no-audit', '--no-fund',
                       '--loglevel=error', tarball];
  try {
    npm(installArgs, install);
  } catch (error) {  // Once more: the registry may be needed, and the network may blink.
    console.error(`npm install failed, retrying: ${error.message}`);
    npm(installArgs, install);
  }
  audioproc = createRequire(path.join(install, 'package.json'))('audioproc');
  assert.ok(audioproc.PROTO_PATH.startsWith(path.join(install, 'node_modules', 'audioproc')),
            audioproc.PROTO_PATH);

  certs = makeCertificates(fs.mkdtempSync(path.join(work, 'certs-')));
  const tokens = path.join(work, 'tokens.txt');
  fs.writeFileSync(tokens, `# test\n${TOKEN}\n`);
  const started = await Promise.allSettled([
    ServerProcess.start(),
    ServerProcess.start([`--tls_cert=${certs.serverCert}`, `--tls_key=${certs.serverKey}`,
                         `--tls_client_ca=${certs.ca}`, `--auth_tokens_file=${tokens}`]),
  ]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {  // Stop the one that did start.
    for (const s of started) {
      if (s.status === 'fulfilled') {
        await s.value.stop();
        s.value.cleanup();
      }
    }
    throw failed.reason;
  }
  [server, secure] = started.map((s) => s.value);
});

after(async () => {
  for (const s of [server, secure]) {
    if (!s) continue;
    const exit = await s.stop();
    const log = s.log();
    s.cleanup();
    assert.deepEqual(exit, { code: 0, signal: null }, `the server on SIGTERM:\n${log}`);
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const FORMAT = { encoding: 'PCM_S16LE', sample_rate_hz: 16000, channels: 1 };

describe('the installed package', { timeout: TEST_TIMEOUT_MS }, () => {
  it('streams from an async generator with an update mid-stream', async () => {
    const client = audioproc.connect(server.address, { timeoutMs: 60000 });
    try {
      const session = client.stream({ input: 's16le:16000:1',
                                      chain: 'highpass:cutoff_hz=80,gain' });
      const tone = sine(3);
      const chunkBytes = 640;  // 20 ms
      const updateAt = 75;     // chunks: 1.5 s
      async function* microphone() {  // A live-like source: chunks trickle in.
        for (let i = 0, at = 0; at < tone.length; ++i, at += chunkBytes) {
          if (i === updateAt) await session.update(1, 'gain:gain_db=-12');
          if (i % 10 === 0) await delay(1);
          yield tone.subarray(at, at + chunkBytes);
        }
      }
      const sending = session.pipeFrom(microphone());
      const levels = [];
      let ready = null;
      let update = null;
      for await (const response of session) {
        if (response.response === 'ready') ready = response.ready;
        if (response.response !== 'chunk' || response.chunk.tail) continue;
        levels.push(rmsDb(response.chunk.data));
        for (const event of response.chunk.events) {
          if (event.event === 'update') update = { ...event.update, chunk: levels.length };
        }
      }
      assert.equal(await sending, Math.ceil(tone.length / chunkBytes));
      const summary = await session.summary;
      assert.equal(summary.frames_out, tone.length / 2);
      assert.equal(ready.chain[1].gain.gain_db, 0);
      assert.ok(update?.applied, JSON.stringify(update));
      assert.equal(update.chunk, updateAt + 1);  // The next chunk's response says so.
      const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const before = mean(levels.slice(10, updateAt));
      const later = mean(levels.slice(updateAt + 5));
      assert.ok(Math.abs(before - later - 12) < 0.5, `${before} dB, then ${later} dB`);
      assert.deepEqual(session.protocolErrors, []);
    } finally {
      client.close();
    }
  });

  it('keeps backpressure from a Readable through a slow reader', async () => {
    const client = audioproc.connect(server.address, { timeoutMs: 60000 });
    try {
      // 9.6 MB (5 minutes of audio), several times what the HTTP/2 flow-control windows of
      // both directions and the server's queues hold together (1 to 2 MB here).
      const chunkBytes = 3200;  // 100 ms
      const chunks = 3000;
      let pulled = 0;
      const source = new Readable({
        highWaterMark: 4 * chunkBytes,
        read() {
          if (pulled === chunks) {
            this.push(null);
          } else {
            this.push(Buffer.alloc(chunkBytes, pulled % 256));
            ++pulled;
          }
        },
      });
      const session = client.stream({ input: FORMAT, chain: 'gain' }, { queueLimit: 8 });
      const sending = session.pipeFrom(source, { chunkBytes });
      let read = 0;
      let maxAhead = 0;
      for await (const response of session) {
        if (response.response !== 'chunk') continue;
        ++read;
        maxAhead = Math.max(maxAhead, pulled - read);
        if (read % 5 === 0) await delay(1);  // The slow consumer.
      }
      assert.equal(await sending, chunks);
      assert.ok(session.writesWaited > 0, 'the writer never waited for drain');
      // Bounded by flow-control windows and queues, not by the length of the stream.
      assert.ok(maxAhead * chunkBytes < 4e6 && maxAhead < chunks / 4,
                `the source ran ${maxAhead} chunks ahead of the reader`);
    } finally {
      client.close();
    }
  });

  it('authenticates with mutual TLS and a bearer token', async () => {
    const client = audioproc.connect(secure.address, {
      ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, token: TOKEN,
      timeoutMs: 30000,
      // The certificate's DNS name, rather than the IP address as TLS server name.
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });
    try {
      const response = await client.listProcessors();
      assert.ok(response.processors.some((p) => p.name === 'gain'));
      const session = client.stream({ input: FORMAT, chain: 'gain:gain_db=-6' });
      session.pipeFrom(sine(0.5));
      const summary = await session.summary;
      assert.equal(summary.frames_out, 8000);
      await assert.rejects(client.listProcessors({ token: 'wrong' }), (error) => {
        assert.ok(error instanceof audioproc.AudioprocError);
        assert.equal(error.codeName, 'UNAUTHENTICATED');
        return true;
      });
    } finally {
      client.close();
    }
    // Without a client certificate the handshake fails: no call gets through.
    const anonymous = audioproc.connect(secure.address, {
      ca: certs.ca, token: TOKEN, timeoutMs: 10000,
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });
    try {
      await assert.rejects(anonymous.listProcessors(), (error) => {
        assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(error.codeName), error.message);
        return true;
      });
    } finally {
      anonymous.close();
    }
  });

  it('fails a bad chain with INVALID_ARGUMENT', async () => {
    const client = audioproc.connect(server.address, { timeoutMs: 30000 });
    try {
      const session = client.stream({ input: FORMAT, chain: 'limiter:ceiling_db=5' });
      const sending = session.pipeFrom(sine(0.2));
      await assert.rejects(async () => { for await (const response of session) void response; },
                           (error) => {
                             assert.ok(error instanceof audioproc.AudioprocError);
                             assert.equal(error.code, audioproc.Status.INVALID_ARGUMENT);
                             assert.match(error.details, /ceiling_db/);
                             assert.equal(error.result.ready, null);
                             return true;
                           });
      await sending;
      assert.throws(() => client.stream({ input: FORMAT, chain: 'nosuch' }),
                    audioproc.ChainError);
    } finally {
      client.close();
    }
  });
});

describe('the TypeScript declarations', { timeout: TEST_TIMEOUT_MS }, () => {
  it('compile with a strict TypeScript program using the API', (t) => {
    // Only with a TypeScript compiler at hand ($TSC, or tsc on the PATH): the test never
    // downloads one.
    const compiler = process.env.TSC || 'tsc';
    const tsc = (...args) => execFileSync(compiler, args, {
      cwd: install, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000,
    });
    try {
      tsc('--version');
    } catch {
      t.skip('no TypeScript compiler (set TSC=/path/to/tsc)');
      return;
    }
    fs.writeFileSync(path.join(install, 'use.ts'), `
import * as audioproc from 'audioproc';
import { Readable } from 'node:stream';

async function main(): Promise<void> {
  const client = audioproc.connect('localhost:50051', { ca: 'ca.pem', token: 't', timeoutMs: 0 });
  const session = client.stream({ input: 's16le:16000:1', chain: 'gain:gain_db=-6' });
  const sending: Promise<number> = session.pipeFrom(Readable.from([Buffer.alloc(640)]));
  await session.update(0, 'gain:gain_db=-12');
  await session.update({ index: 0, spec: { gain: { gain_db: -3 } } });
  for await (const response of session) {
    if (response.response === 'chunk') {
      const data: Buffer = response.chunk.data;
      const level: number = response.chunk.metrics.out_rms_dbfs;
      void data; void level;
    }
  }
  await sending;
  const summary = await session.summary;
  const frames: number = summary.frames_out;
  try {
    await session.ready;
  } catch (error) {
    if (error instanceof audioproc.AudioprocError &&
        error.code === audioproc.Status.INVALID_ARGUMENT) {
      console.log(error.details, error.result?.chunksSent);
    }
  }
  const result = await session.collect();
  const resumable = client.stream(
    { input: 's16le:16000:1', chain: 'gain', checkpoint_interval_ms: 200 }, { resume: true });
  for await (const response of resumable) {
    if (response.response === 'checkpoint') {
      const token: Buffer = response.checkpoint.token;
      const after: number = response.checkpoint.sequence;
      void token; void after;
    }
  }
  const ready = await resumable.ready;
  const resumes: number = resumable.resumes + result.resumes + ready.resumed_after_sequence;
  const asked: boolean = ready.resumable;
  void resumes; void asked;
  const list = await client.listProcessors({ timeoutMs: 1000 });
  const file = await client.processFile('in.wav', { chain: 'gain', output: { container: 'FLAC' } });
  audioproc.writeWav('x.wav', audioproc.readWav('in.wav'));
  console.log(frames, result.output.length, list.processors[0].parameters[0].runtime_updatable,
              file.file.length, audioproc.parseFormat('s16le:16000:1').sample_rate_hz);
  client.close();
}
void main();
`);
    tsc('--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', 'use.ts');
  });
});

describe('the installed audioproc-node', { timeout: TEST_TIMEOUT_MS }, () => {
  const bin = () => path.join(install, 'node_modules', '.bin', 'audioproc-node');

  it('writes the demo WAV byte-identical to the C++ client', async () => {
    const mine = path.join(work, 'node.wav');
    const theirs = path.join(work, 'cpp.wav');
    const flags = [`--addr=${server.address}`, `--input=${SPEECH}`, `--chain=${CLI_CHAIN}`];
    await Promise.all([
      promisify(execFile)(bin(), [...flags, `--output=${mine}`], { cwd: install }),
      promisify(execFile)(CPP_CLIENT, [...flags, `--output=${theirs}`]),
    ]);
    execFileSync('cmp', [mine, theirs]);
  });

  it('streams raw PCM through pipes: --input - --output -', async () => {
    const raw = audioproc.readWav(SPEECH).data;
    // cat x.raw | audioproc-node --input - --format s16le:16000:1 --output - > out.raw
    const child = spawn(bin(), [`--addr=${server.address}`, '--input', '-', '--format',
                                's16le:16000:1', '--output', '-', '--chain', CLI_CHAIN],
                        { cwd: install });
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => { err += d; });
    Readable.from([raw]).pipe(child.stdin);
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, err);
    const reference = path.join(work, 'cpp.wav');
    if (!fs.existsSync(reference)) {
      execFileSync(CPP_CLIENT, [`--addr=${server.address}`, `--input=${SPEECH}`,
                                `--chain=${CLI_CHAIN}`, `--output=${reference}`]);
    }
    assert.ok(Buffer.concat(out).equals(audioproc.readWav(reference).data), 'raw output differs');
    assert.match(err, /frames in\/out: 86598 \/ 86598/);
  });
});
