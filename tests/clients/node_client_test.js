// The Node client (clients/node/audioproc_client.js) against the real audioproc-server.
//
// The server binary of $AUDIOPROC_BUILD_DIR (default: build/) is started once for the file on
// free loopback ports (--port=0, read back from --port_file) and stopped with SIGTERM at the
// end; it must exit 0. Needs node_modules (`.ci/install-deps --npm`). Run from the repository
// root, as CTest does:
//
//   AUDIOPROC_BUILD_DIR=build node --test tests/clients/node_client_test.js
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, describe, it } = require('node:test');
const { setTimeout: delay } = require('node:timers/promises');
const { promisify } = require('node:util');

const grpc = require('@grpc/grpc-js');
const ac = require('../../clients/node/audioproc_client.js');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD_DIR = path.resolve(process.env.AUDIOPROC_BUILD_DIR ?? path.join(ROOT, 'build'));
const SERVER = path.join(BUILD_DIR, 'service', 'audioproc-server');
const CLIENT = path.join(ROOT, 'clients', 'node', 'audioproc_client.js');
const SPEECH = path.join(ROOT, 'clients', 'demo', 'speech_16k.wav');
const DEMO_CHAIN = 'highpass:cutoff_hz=80,gain:gain_db=12,limiter:ceiling_db=-1';
// DESIGN.md section 4, limiter: no s16 sample above round(ceiling x 32768).
const CEILING_S16 = Math.round(10 ** (-1 / 20) * 32768);
const CALL_TIMEOUT_S = 30;
const STARTUP_TIMEOUT_MS = 30000;
const TEST_TIMEOUT_MS = 50000;

// audioproc-server on free loopback ports, its log in a temporary directory.
class ServerProcess {
  static async start() {
    const server = new ServerProcess();
    server.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodetest-'));
    server.logPath = path.join(server.dir, 'server.log');
    const portFile = path.join(server.dir, 'ports.json');
    const log = fs.openSync(server.logPath, 'w');
    server.child = spawn(SERVER, ['--host=127.0.0.1', '--port=0', '--metrics_port=0',
                                  `--port_file=${portFile}`], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    server.exited = new Promise((resolve) => {
      server.child.on('exit', (code, signal) => resolve({ code, signal }));
      server.child.on('error', (error) => resolve({ code: null, signal: null, error }));
    });
    let exit = null;
    server.exited.then((e) => { exit = e; });
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        const ports = JSON.parse(fs.readFileSync(portFile, 'utf8'));
        if (ports.grpc) {
          server.address = `127.0.0.1:${ports.grpc}`;
          return server;
        }
      } catch {
        // Not written yet, or caught half-written.
      }
      if (exit !== null) {
        throw new Error(`the server exited before binding (${JSON.stringify(exit)}):\n${
          server.log()}`);
      }
      await delay(10);  // Polling a file another process writes; bounded by the deadline.
    }
    server.child.kill('SIGKILL');
    throw new Error(`no port file after ${STARTUP_TIMEOUT_MS} ms:\n${server.log()}`);
  }

  log() { return fs.readFileSync(this.logPath, 'utf8'); }

  // SIGTERM, as an orchestrator stops it; resolves to {code, signal}.
  async stop() {
    this.child.kill('SIGTERM');
    const timeout = delay(30000, null, { ref: false });  // Does not hold the process.
    let exit = await Promise.race([this.exited, timeout]);
    if (exit === null) {
      this.child.kill('SIGKILL');
      exit = await this.exited;
    }
    return exit;
  }

  cleanup() { fs.rmSync(this.dir, { recursive: true, force: true }); }
}

function samples(buffer) {
  const out = new Int16Array(buffer.length / 2);
  for (let i = 0; i < out.length; ++i) out[i] = buffer.readInt16LE(2 * i);
  return out;
}

function peak(values) {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max;
}

let server;
let client;
let audio;

before(async () => {
  assert.ok(fs.existsSync(SERVER), `${SERVER} is not built (set AUDIOPROC_BUILD_DIR)`);
  server = await ServerProcess.start();
  client = ac.connect(server.address);
  audio = ac.readWav(SPEECH);
});

after(async () => {
  client?.close();
  if (!server) return;
  const exit = await server.stop();
  const log = server.log();
  server.cleanup();
  assert.deepEqual(exit, { code: 0, signal: null }, `the server on SIGTERM:\n${log}`);
});

function stream(chain, options) {
  return ac.processStream(client, ac.parseStreamConfig(chain), audio,
                          { timeoutS: CALL_TIMEOUT_S, ...options });
}

const frames = () => audio.data.length / 2;

describe('Process', { timeout: TEST_TIMEOUT_MS }, () => {
  it('reads the demo file as 16 kHz mono s16', () => {
    assert.equal(audio.sampleRateHz, 16000);
    assert.equal(audio.channels, 1);
    assert.ok(frames() > 16000);
  });

  it('keeps the length and the limiter ceiling through the demo chain in 20 ms chunks',
     async () => {
       const result = await stream(DEMO_CHAIN, { chunkMs: 20 });
       assert.deepEqual(result.protocolErrors, []);
       assert.equal(result.output.length, audio.data.length);
       const outPeak = peak(samples(result.output));
       assert.ok(outPeak <= CEILING_S16, `peak ${outPeak} above ${CEILING_S16}`);
       // 12 dB on a -1.7 dBFS recording: the limiter must have had work to do.
       assert.ok(outPeak > 0.9 * CEILING_S16, `peak ${outPeak}`);
       assert.ok(outPeak > peak(samples(audio.data)));

       const { ready } = result;
       assert.equal(ready.output.encoding, 'PCM_S16LE');
       assert.equal(ready.output.sample_rate_hz, 16000);
       assert.equal(ready.output.channels, 1);
       assert.ok(ready.stream_id);
       assert.deepEqual(ready.chain.map((s) => s.processor), ['highpass', 'gain', 'limiter']);
       // Resolved: defaults filled in (limiter lookahead), given values kept.
       assert.equal(typeof ready.chain[2].limiter.lookahead_ms, 'number');
       assert.equal(ready.chain[1].gain.gain_db, 12);
       assert.ok(ready.latency_frames > 0);

       const chunkFrames = 320;
       const expected = Math.ceil(frames() / chunkFrames);
       assert.equal(result.chunks.length, expected);
       assert.deepEqual(result.chunks.map((c) => c.metrics.sequence),
                        Array.from({ length: expected }, (_, i) => i + 1));
       for (const chunk of [...result.chunks, result.tail]) {
         assert.equal(chunk.metrics.frames_out * 2, chunk.data.length);
       }
       // Latency compensation: the pre-roll is dropped from the first responses.
       assert.equal(result.chunks[0].metrics.frames_out,
                    Math.max(0, chunkFrames - ready.latency_frames));
       assert.equal(result.tail.tail, true);

       const { summary } = result;
       assert.equal(summary.frames_in, frames());
       assert.equal(summary.frames_out, frames());
       assert.equal(summary.chunks, expected);
       assert.ok(Math.abs(summary.audio_seconds - frames() / 16000) < 1e-6);
     });

  it('answers ready, one chunk per chunk with its sequence, the tail, then the summary',
     async () => {
       // The message order checked on the wire with the bare grpc-js call, independently of
       // the library's own bookkeeping.
       const config = ac.parseStreamConfig(DEMO_CHAIN);
       config.input = { encoding: 'PCM_S16LE', sample_rate_hz: 16000, channels: 1 };
       const call = client.Process({ deadline: Date.now() + CALL_TIMEOUT_S * 1000 });
       const responses = [];
       const done = new Promise((resolve, reject) => {
         call.on('data', (r) => responses.push(r));
         call.on('error', reject);
         call.on('end', resolve);
       });
       call.write({ config });
       const chunkBytes = 320 * 2;
       const sent = [];
       for (let offset = 0; offset < audio.data.length; offset += chunkBytes) {
         const sequence = 1000 + 3 * sent.length;  // Client-chosen, not 1..n: must be echoed.
         sent.push(sequence);
         if (!call.write({ chunk: { data: audio.data.subarray(offset, offset + chunkBytes),
                                    sequence } })) {
           await new Promise((resolve) => call.once('drain', resolve));
         }
       }
       call.end();
       await done;
       const kinds = responses.map((r) => r.response);
       assert.deepEqual(kinds, ['ready', ...Array(sent.length + 1).fill('chunk'), 'summary']);
       const chunks = responses.slice(1, -1).map((r) => r.chunk);
       assert.deepEqual(chunks.slice(0, -1).map((c) => c.metrics.sequence), sent);
       assert.deepEqual(chunks.map((c) => c.tail), [...Array(sent.length).fill(false), true]);
       assert.equal(chunks.reduce((n, c) => n + c.data.length, 0), audio.data.length);
     });

  it('gives byte-identical output whatever the chunking', async () => {
    const reference = await stream(DEMO_CHAIN, { chunkMs: 20 });
    for (const chunkFrames of [7, 320, frames()]) {
      const result = await stream(DEMO_CHAIN, { chunkFrames });
      assert.deepEqual(result.protocolErrors, []);
      assert.equal(result.chunks.length, Math.ceil(frames() / chunkFrames));
      assert.ok(result.output.equals(reference.output),
                `output differs with ${chunkFrames}-frame chunks`);
    }
  });

  it('waits for drain whenever write() returns false', async () => {
    // A client whose calls record every write: none may come while the last write() returned
    // false and no 'drain' has followed. 7-frame chunks are small and many, so the writable
    // buffer does fill.
    let writes = 0;
    let refused = 0;
    let writesWhileFull = 0;
    const spy = {
      Process: (...args) => {
        const call = client.Process(...args);
        const write = call.write.bind(call);
        let full = false;
        call.on('drain', () => { full = false; });
        call.write = (...writeArgs) => {
          ++writes;
          if (full) ++writesWhileFull;
          const ok = write(...writeArgs);
          if (!ok) { full = true; ++refused; }
          return ok;
        };
        return call;
      },
    };
    const result = await ac.processStream(spy, ac.parseStreamConfig(DEMO_CHAIN), audio,
                                          { chunkFrames: 7, timeoutS: CALL_TIMEOUT_S });
    assert.deepEqual(result.protocolErrors, []);
    assert.equal(writes, 1 + Math.ceil(frames() / 7));
    assert.ok(refused > 0, 'write() never returned false: nothing was tested');
    assert.equal(writesWhileFull, 0);
  });

  it('refuses an out-of-range parameter with INVALID_ARGUMENT naming it', async () => {
    await assert.rejects(stream('gain:gain_db=99', { chunkMs: 20 }), (error) => {
      assert.ok(error instanceof ac.StreamError);
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /gain\.gain_db/);
      assert.equal(error.result.ready, null);  // A bad config gets no ready.
      assert.deepEqual(error.result.chunks, []);
      return true;
    });
  });

  it('keeps what was answered when the stream fails after ready', async () => {
    // A chunk over the server's --max_chunk_bytes (1 MiB by default) ends the stream after
    // ready: no tail, no summary, and the status.
    const big = { data: Buffer.alloc(2 * 600000), sampleRateHz: 16000, channels: 1 };
    await assert.rejects(
      ac.processStream(client, ac.parseStreamConfig('gain'), big,
                       { chunkFrames: 600000, timeoutS: CALL_TIMEOUT_S }),
      (error) => {
        assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(error.details, /max_chunk_bytes/);
        assert.notEqual(error.result.ready, null);
        assert.equal(error.result.tail, null);
        assert.equal(error.result.summary, null);
        return true;
      });
  });

  it('lists gain, highpass and limiter with their parameters', async () => {
    const response = await ac.listProcessors(client, { timeoutS: CALL_TIMEOUT_S });
    const processors = new Map(response.processors.map((p) => [p.name, p]));
    for (const name of ['gain', 'highpass', 'limiter']) assert.ok(processors.has(name), name);
    const param = (processor, name) =>
      processors.get(processor).parameters.find((p) => p.name === name);
    assert.equal(param('gain', 'gain_db').min, -120);
    assert.equal(param('gain', 'gain_db').max, 60);
    assert.equal(param('gain', 'gain_db').runtime_updatable, true);
    assert.equal(param('highpass', 'cutoff_hz').required, true);
    assert.ok(param('limiter', 'ceiling_db'));
  });
});

describe('command line', { timeout: TEST_TIMEOUT_MS }, () => {
  const run = async (...args) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [CLIENT, `--addr=${server.address}`, `--timeout_s=${CALL_TIMEOUT_S}`, ...args],
        { cwd: ROOT, timeout: (CALL_TIMEOUT_S + 10) * 1000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      if (typeof error.code !== 'number') throw error;
      return { code: error.code, stdout: error.stdout, stderr: error.stderr };
    }
  };

  it('streams a file, writes the output and prints the summary', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodecli-'));
    try {
      const out = path.join(dir, 'out.wav');
      const r = await run(`--input=${SPEECH}`, `--output=${out}`, `--chain=${DEMO_CHAIN}`,
                          '--chunk_ms=20');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`frames in/out: ${frames()} / ${frames()}`));
      assert.match(r.stdout, /chain: highpass:cutoff_hz=80/);
      assert.ok(r.stdout.includes(`wrote ${out}`));
      const written = ac.readWav(out);
      assert.equal(written.sampleRateHz, 16000);
      assert.equal(written.channels, 1);
      const reference = await stream(DEMO_CHAIN, { chunkMs: 20 });
      assert.ok(written.data.equals(reference.output));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a JSON StreamConfig and prints the summary as proto3 JSON', async () => {
    const r = await run(`--input=${SPEECH}`, '--json',
                        '--chain={"chain":[{"gain":{"gainDb":-6}}],"streamId":"node-cli.1"}');
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.framesOut, String(frames()));  // uint64: a string in proto3 JSON
  });

  it('exits 1 with the status for a refused config', async () => {
    const r = await run(`--input=${SPEECH}`, '--chain=gain:gain_db=99');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /INVALID_ARGUMENT: .*gain\.gain_db/);
  });

  it('exits 1 for a bad one-line chain before streaming', async () => {
    const r = await run(`--input=${SPEECH}`, '--chain=hipass:cutoff_hz=80');
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes("--chain: chain[0]: unknown processor 'hipass'"), r.stderr);
  });

  it('lists the processors', async () => {
    const r = await run('--list');
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['gain', 'highpass', 'limiter']) {
      assert.match(r.stdout, new RegExp(`\n${name}: `));
    }
  });
});

// The same table as the Python client's test. Each expected chain is proto3 JSON; protobufjs's
// own fromObject on a camelCase reflection of the proto turns it into bytes, and the parser's
// chain is encoded as grpc-js sends it (proto-loader's keepCase reflection); the bytes must be
// equal.
describe('chain parser', () => {
  const { cases } = JSON.parse(
    fs.readFileSync(path.join(__dirname, 'chain_cases.json'), 'utf8'));
  const { protobuf, root } = ac.load();
  const camelRoot = new protobuf.Root().loadSync(ac.PROTO_PATH);
  const expectedBytes = (chain) => {
    const type = camelRoot.lookupType('audioproc.v1.StreamConfig');
    const message = type.fromObject({ chain });
    assert.equal(type.verify(message), null);
    return Buffer.from(type.encode(message).finish());
  };
  const parsedBytes = (chain) => {
    const type = root.lookupType('audioproc.v1.StreamConfig');
    return Buffer.from(type.encode(type.fromObject({ chain })).finish());
  };

  it('has the shared table', () => assert.ok(cases.length > 50));

  for (const c of cases) {
    it(`${c.name}: ${JSON.stringify(c.input)}`, () => {
      if (c.error !== undefined) {
        assert.throws(() => ac.parseChain(c.input), (error) => {
          assert.ok(error instanceof ac.ChainError, String(error));
          assert.ok(error.message.includes(c.error), `${error.message}\n  wanted: ${c.error}`);
          return true;
        });
        if (c.name !== 'JsonObjectWithMoreThanChain') {  // Refused by parseChain only.
          assert.throws(() => ac.parseStreamConfig(c.input), ac.ChainError);
        } else {
          assert.equal(ac.parseStreamConfig(c.input).stream_id, 'x');
        }
        return;
      }
      const chain = ac.parseChain(c.input);
      assert.deepEqual(parsedBytes(chain), expectedBytes(c.chain));
      assert.deepEqual(Object.keys(ac.parseStreamConfig(c.input)), ['chain']);
      if (!JSON.stringify(c.chain).includes('matrix')) {  // Scalars only: the one-line form.
        assert.deepEqual(parsedBytes(ac.parseChain(ac.formatChain(chain))), parsedBytes(chain));
      }
    });
  }

  it('parses every processor of the proto by name', () => {
    const spec = camelRoot.lookupType('audioproc.v1.ProcessorSpec');
    const names = spec.oneofs.processor.fieldsArray.map((f) => f.name);
    assert.ok(names.length >= 20);
    for (const field of ac.load().root.lookupType('audioproc.v1.ProcessorSpec').oneofs.processor
      .fieldsArray) {
      assert.deepEqual(ac.parseChain(field.name), [{ [field.name]: {} }]);
    }
  });
});

describe('WAV files', () => {
  it('reads back what it writes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodewav-'));
    try {
      const file = path.join(dir, 'x.wav');
      const pcm = { data: Buffer.from(Array.from({ length: 768 }, (_, i) => i % 256)),
                    sampleRateHz: 48000, channels: 2 };
      ac.writeWav(file, pcm);
      assert.equal(fs.statSync(file).size, 44 + 768);
      assert.deepEqual(ac.readWav(file), pcm);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const wav = (chunks) => {
    const body = Buffer.concat([Buffer.from('WAVE'), ...chunks]);
    const riff = Buffer.alloc(8);
    riff.write('RIFF', 0, 'latin1');
    riff.writeUInt32LE(body.length, 4);
    return Buffer.concat([riff, body]);
  };
  const chunk = (id, body) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length & 1)]);
  };
  const fmt = (tag, channels, rate, bits) => {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(tag, 0);
    b.writeUInt16LE(channels, 2);
    b.writeUInt32LE(rate, 4);
    b.writeUInt32LE(rate * channels * bits / 8, 8);
    b.writeUInt16LE(channels * bits / 8, 12);
    b.writeUInt16LE(bits, 14);
    return chunk('fmt ', b);
  };

  it('skips other chunks (odd-sized ones padded) and cuts a partial frame', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodewav-'));
    try {
      const file = path.join(dir, 'x.wav');
      fs.writeFileSync(file, wav([chunk('LIST', Buffer.from('abc')), fmt(1, 1, 8000, 16),
                                  chunk('data', Buffer.from([1, 0, 2, 0, 3]))]));
      assert.deepEqual(ac.readWav(file),
                       { data: Buffer.from([1, 0, 2, 0]), sampleRateHz: 8000, channels: 1 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses anything but 16-bit PCM', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodewav-'));
    try {
      const file = path.join(dir, 'x.wav');
      for (const [tag, bits] of [[1, 8], [1, 24], [3, 32]]) {
        fs.writeFileSync(file, wav([fmt(tag, 1, 8000, bits),
                                   chunk('data', Buffer.alloc(8))]));
        assert.throws(() => ac.readWav(file), /only 16-bit PCM/);
      }
      fs.writeFileSync(file, Buffer.from('not a wav file'));
      assert.throws(() => ac.readWav(file), /not a RIFF\/WAVE file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
