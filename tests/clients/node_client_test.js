// The Node package (clients/node) against the real audioproc-server, from the source tree.
//
// The server binary of $AUDIOPROC_BUILD_DIR (default: build/) is started once for the file on
// free loopback ports (--port=0, read back from --port_file) and stopped with SIGTERM at the
// end; it must exit 0. The C++ client of the same build is the reference for the command
// line's output bytes. Needs node_modules (`.ci/install-deps --npm`). Run from the repository
// root, as CTest does:
//
//   AUDIOPROC_BUILD_DIR=build node --test tests/clients/node_client_test.js
//
// tests/clients/node_package_test.js installs the packed package and runs it the way a user
// would.
'use strict';

const assert = require('node:assert/strict');
const { execFile, spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, describe, it } = require('node:test');
const { setTimeout: delay } = require('node:timers/promises');
const { promisify } = require('node:util');

const grpc = require('@grpc/grpc-js');
const ac = require('../../clients/node');
const { load, PROTO_PATH } = require('../../clients/node/lib/proto');
const {
  CPP_CLIENT, ROOT, SERVER, SPEECH, ServerProcess, peak, rmsDb, samples, sine,
} = require('./node_test_server');

const CLIENT = path.join(ROOT, 'clients', 'node', 'bin', 'audioproc-node.js');
const DEMO_CHAIN = 'highpass:cutoff_hz=80,gain:gain_db=12,limiter:ceiling_db=-1';
const CLI_CHAIN = 'highpass:cutoff_hz=80,compressor,limiter:ceiling_db=-1';
// DESIGN.md section 4, limiter: no s16 sample above round(ceiling x 32768).
const CEILING_S16 = Math.round(10 ** (-1 / 20) * 32768);
const CALL_TIMEOUT_S = 30;
const TEST_TIMEOUT_MS = 60000;

let server;
let client;
let audio;

before(async () => {
  assert.ok(fs.existsSync(SERVER), `${SERVER} is not built (set AUDIOPROC_BUILD_DIR)`);
  server = await ServerProcess.start();
  client = ac.connect(server.address, { timeoutMs: CALL_TIMEOUT_S * 1000 });
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

// Streams `data` (default: the demo file) through `chain` and collects what was answered.
async function stream(chain, { chunkMs = 0, chunkFrames = 0, data = audio.data } = {}) {
  const session = client.stream({ ...ac.parseStreamConfig(chain), input: audio.format });
  const sending = session.pipeFrom(data, chunkFrames ? { chunkBytes: 2 * chunkFrames }
    : { chunkMs: chunkMs || 20 });
  try {
    return await session.collect();
  } finally {
    await sending;
  }
}

const frames = () => audio.data.length / 2;

function tempDir() { return fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodecli-')); }

// Runs `program` (node scripts through node) with `args`; resolves to {code, stdout, stderr}.
async function run(program, args, { input } = {}) {
  const [file, argv] = program.endsWith('.js') ? [process.execPath, [program, ...args]]
    : [program, args];
  if (input === undefined) {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        file, argv, { cwd: ROOT, timeout: (CALL_TIMEOUT_S + 10) * 1000, encoding: 'buffer' });
      return { code: 0, stdout, stderr: stderr.toString() };
    } catch (error) {
      if (typeof error.code !== 'number') throw error;
      return { code: error.code, stdout: error.stdout, stderr: error.stderr.toString() };
    }
  }
  const child = spawn(file, argv, { cwd: ROOT });
  const out = [];
  const err = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  child.stdin.end(input);
  const code = await new Promise((resolve) => child.on('close', resolve));
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

describe('Process', { timeout: TEST_TIMEOUT_MS }, () => {
  it('reads the demo file as 16 kHz mono s16', () => {
    assert.deepEqual(audio.format, { encoding: 'PCM_S16LE', sample_rate_hz: 16000, channels: 1 });
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
       // the package's own bookkeeping.
       const config = ac.parseStreamConfig(DEMO_CHAIN);
       config.input = audio.format;
       const call = client.grpcClient.Process({ deadline: Date.now() + CALL_TIMEOUT_S * 1000 });
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

  it('echoes the sequences written with {data, sequence}', async () => {
    const session = client.stream({ input: audio.format, chain: 'gain' });
    const sequences = [7, 8, 100];
    for (const [i, sequence] of sequences.entries()) {
      await session.write({ data: audio.data.subarray(640 * i, 640 * (i + 1)), sequence });
    }
    await session.end();
    const result = await session.collect();
    assert.deepEqual(result.protocolErrors, []);
    assert.deepEqual(result.chunks.map((c) => c.metrics.sequence), sequences);
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
    // The client's calls record every write: none may come while the last write() returned
    // false and no 'drain' has followed. 7-frame chunks are small and many, so the writable
    // buffer does fill.
    let writes = 0;
    let refused = 0;
    let writesWhileFull = 0;
    const stub = client.grpcClient;
    const original = stub.Process;
    stub.Process = (...args) => {
      const call = original.apply(stub, args);
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
    };
    let result;
    try {
      result = await stream(DEMO_CHAIN, { chunkFrames: 7 });
    } finally {
      delete stub.Process;
    }
    assert.deepEqual(result.protocolErrors, []);
    assert.equal(writes, 1 + Math.ceil(frames() / 7));
    assert.ok(refused > 0, 'write() never returned false: nothing was tested');
    assert.equal(writesWhileFull, 0);
  });

  it('applies an update mid-stream at a chunk boundary and says so in an event', async () => {
    const tone = sine(2);
    const chunkBytes = 640;
    const updateAt = 50;  // chunks, 1 s
    const session = client.stream({ input: audio.format, chain: 'gain:gain_db=0' });
    const writing = (async () => {
      for (let i = 0, offset = 0; offset < tone.length; ++i, offset += chunkBytes) {
        if (i === updateAt) await session.update(0, 'gain:gain_db=-20');
        await session.write(tone.subarray(offset, offset + chunkBytes));
      }
      await session.end();
    })();
    const result = await session.collect();
    await writing;
    assert.deepEqual(result.protocolErrors, []);
    const updates = result.events.filter((e) => e.event === 'update');
    assert.equal(updates.length, 1);
    assert.equal(updates[0].update.applied, true, updates[0].update.message);
    const before = rmsDb(Buffer.concat(result.chunks.slice(10, updateAt).map((c) => c.data)));
    const later = rmsDb(Buffer.concat(result.chunks.slice(updateAt + 5).map((c) => c.data)));
    assert.ok(Math.abs(before - later - 20) < 0.5, `${before} dB, then ${later} dB`);
  });

  it('refuses an update it cannot apply in band and goes on', async () => {
    const session = client.stream({ input: audio.format, chain: 'highpass:cutoff_hz=80' });
    await session.write(audio.data.subarray(0, 640));
    await session.update('highpass:order=4');  // Not runtime-updatable.
    await session.write(audio.data.subarray(640, 1280));
    await session.end();
    const result = await session.collect();
    const updates = result.events.filter((e) => e.event === 'update');
    assert.equal(updates.length, 1);
    assert.equal(updates[0].update.applied, false);
    assert.ok(result.summary);
  });

  it('refuses an out-of-range parameter with INVALID_ARGUMENT naming it', async () => {
    await assert.rejects(stream('gain:gain_db=99', { chunkMs: 20 }), (error) => {
      assert.ok(error instanceof ac.AudioprocError);
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(error.codeName, 'INVALID_ARGUMENT');
      assert.match(error.details, /gain\.gain_db/);
      assert.equal(error.result.ready, null);  // A bad config gets no ready.
      assert.deepEqual(error.result.chunks, []);
      return true;
    });
  });

  it('rejects ready and summary for a refused config', async () => {
    const session = client.stream({ input: audio.format, chain: 'gain:gain_db=99' });
    await assert.rejects(session.ready, { code: grpc.status.INVALID_ARGUMENT });
    await assert.rejects(session.summary, { code: grpc.status.INVALID_ARGUMENT });
    await assert.rejects(session.write(Buffer.alloc(2)), ac.AudioprocError);
  });

  it('keeps what was answered when the stream fails after ready', async () => {
    // A chunk over the server's --max_chunk_bytes (1 MiB by default) ends the stream after
    // ready: no tail, no summary, and the status.
    await assert.rejects(stream('gain', { data: Buffer.alloc(2 * 600000), chunkFrames: 600000 }),
                         (error) => {
                           assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED);
                           assert.match(error.details, /max_chunk_bytes/);
                           assert.notEqual(error.result.ready, null);
                           assert.equal(error.result.tail, null);
                           assert.equal(error.result.summary, null);
                           return true;
                         });
  });

  it('paces chunks like a live source with realtime', async () => {
    const session = client.stream({ input: audio.format, chain: 'gain' });
    const started = performance.now();
    const sending = session.pipeFrom(sine(0.5), { chunkMs: 20, realtime: true });
    const result = await session.collect();
    assert.equal(await sending, 25);
    // The last chunk is due 480 ms after the first: a lower bound only.
    assert.ok(performance.now() - started >= 470, `${performance.now() - started} ms`);
    assert.equal(result.summary.frames_out, 8000);
  });

  it('reads the rest itself when the summary is awaited without iterating', async () => {
    const session = client.stream({ input: audio.format, chain: 'gain' });
    const sent = await session.pipeFrom(audio.data, { chunkMs: 100 });
    const summary = await session.summary;
    assert.equal(summary.chunks, sent);
    assert.equal(summary.frames_out, frames());
  });

  it('cancels the call when the loop is left before the summary', async () => {
    const session = client.stream({ input: audio.format, chain: 'gain' });
    session.pipeFrom(audio.data, { chunkMs: 20 });
    for await (const response of session) {
      if (response.response === 'chunk') break;
    }
    await assert.rejects(session.summary, { code: grpc.status.CANCELLED });
  });

  it('lists gain, highpass and limiter with their parameters', async () => {
    const response = await client.listProcessors();
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

  it('processes a whole file with ProcessFile', async () => {
    const response = await client.processFile(SPEECH, { chain: 'gain:gain_db=-6' });
    assert.equal(response.summary.frames_out, frames());
    const out = ac.decodeWav(response.file);
    assert.deepEqual(out.format, audio.format);
    const streamed = await stream('gain:gain_db=-6');
    assert.ok(out.data.equals(streamed.output));
    await assert.rejects(client.processFile(Buffer.from('not audio')),
                         { code: grpc.status.INVALID_ARGUMENT });
  });
});

// Automatic resume: servers that share --resume_key_file, one target naming them all (round
// robin), and a stream whose server drains part-way through.
describe('resume', { timeout: 2 * TEST_TIMEOUT_MS }, () => {
  const RESUME_CONFIG = {
    input: 's16le:16000:1', chain: 'highpass:cutoff_hz=80,denoise,compressor,gain,limiter',
    stream_id: 'node-resume', checkpoint_interval_ms: 200,
  };
  const ROUND_ROBIN = {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  };
  let dir;
  let servers = [];

  // 4 s of 16 kHz mono s16: a 100 Hz..4 kHz chirp over noise (a fixed LCG), so denoise and
  // the compressor have state to carry across the resume.
  const chirpInNoise = () => {
    const out = Buffer.alloc(2 * 4 * 16000);
    let noise = 12345;
    for (let i = 0; i < out.length / 2; ++i) {
      const t = i / 16000;
      noise = (Math.imul(noise, 1664525) + 1013904223) >>> 0;
      const hiss = (noise / 2 ** 32 - 0.5) * 0.05;
      const chirp = 0.3 * Math.sin(2 * Math.PI * (100 * t + (3900 / 8) * t * t)) *
        (Math.sin(2 * Math.PI * 3 * t) > -0.3 ? 1 : 0.1);
      out.writeInt16LE(Math.round((chirp + hiss) * 32767), 2 * i);
    }
    return out;
  };

  const startServer = (flags = []) => ServerProcess.start(
    [`--resume_key_file=${path.join(dir, 'resume.key')}`, ...flags]).then((s) => {
    servers.push(s);
    return s;
  });
  const stopServer = async (s) => {
    servers = servers.filter((x) => x !== s);
    const exit = await s.stop();
    const log = s.log();
    s.cleanup();
    assert.deepEqual(exit, { code: 0, signal: null }, `the server on SIGTERM:\n${log}`);
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-noderesume-'));
    fs.writeFileSync(path.join(dir, 'resume.key'), `${'k'.repeat(64)}\n`);
  });

  after(async () => {
    for (const s of servers) {
      await s.stop();
      s.cleanup();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // SIGTERM: the server drains, sends a last checkpoint and ends the call UNAVAILABLE. SIGKILL:
  // the connection drops, the last checkpoint is up to 200 ms old, and the new server answers
  // again chunks the old one had answered (dropped by the session).
  for (const [signal, what] of [['SIGTERM', 'drains'], ['SIGKILL', 'dies']]) {
    it(`goes on on another server when its server ${what}, byte-identical to an undisturbed one`,
       () => resumeAcross(signal));
  }

  async function resumeAcross(signal) {
    const [first, second] = await Promise.all([startServer(['--drain_seconds=20']),
                                               startServer(['--drain_seconds=20'])]);
    const input = chirpInNoise();
    const chunkBytes = 640;
    const chunks = Math.ceil(input.length / chunkBytes);
    const both = ac.connect(`ipv4:${first.address},${second.address}`,
                            { timeoutMs: 60000, channelOptions: ROUND_ROBIN });
    let drained;  // The server that was sent `signal`, and its exit.
    const output = [];
    const sequences = [];
    let checkpoints = 0;
    let summary = null;
    // The audio in 20 ms chunks, and a gain update before every 7th: whenever the stream
    // resumes, the requests after its checkpoint hold an update to send again.
    const updates = Math.floor((chunks + 3) / 7);  // i % 7 === 3 for i < chunks
    const feed = async (session, pace) => {
      for (let i = 0; i < chunks; ++i) {
        if (i % 7 === 3) await session.update(3, `gain:gain_db=${i % 2 ? -4 : 2}`);
        await session.write(input.subarray(i * chunkBytes, (i + 1) * chunkBytes));
        if (pace) await delay(5);  // Paced, so the signal comes mid-stream.
      }
      await session.end();
    };
    const updateEvents = (events) => events.filter((e) => e.event === 'update')
      .map((e) => e.update.applied);
    const events = [];
    const session = both.stream(RESUME_CONFIG);
    const sending = feed(session, true);
    try {
      for await (const response of session) {
        if (response.response === 'checkpoint') ++checkpoints;
        if (response.response === 'summary') summary = response.summary;
        if (response.response !== 'chunk') continue;
        output.push(response.chunk.data);
        events.push(...response.chunk.events);
        if (response.chunk.tail) continue;
        sequences.push(response.chunk.metrics.sequence);
        if (sequences.length === Math.floor(chunks / 3)) {
          // The stream's server: the one with a stream running.
          drained = (async () => {
            const active = await Promise.all(
              [first, second].map((s) => s.metric('audioproc_streams_active')));
            assert.equal(active.reduce((a, b) => a + b, 0), 1, `streams active: ${active}`);
            const server = active[0] === 1 ? first : second;
            server.child.kill(signal);
            return { server, exit: await server.exited };
          })();
        }
      }
      await sending;
    } finally {
      both.close();
    }
    assert.ok(drained, 'the stream ended before a third of it was answered');
    const { server, exit } = await drained;
    assert.deepEqual(exit, signal === 'SIGTERM' ? { code: 0, signal: null }
      : { code: null, signal }, server.log());
    servers = servers.filter((s) => s !== server);
    server.cleanup();

    assert.ok(session.resumes >= 1, `resumes: ${session.resumes}`);
    assert.ok(checkpoints >= 3, `checkpoints: ${checkpoints}`);
    assert.deepEqual(session.protocolErrors, []);
    assert.deepEqual(sequences, Array.from({ length: chunks }, (_, i) => i + 1));
    // Each update's event once, as each chunk's output.
    assert.deepEqual(updateEvents(events), Array(updates).fill(true));
    assert.ok(summary, 'no summary');
    assert.equal(session.readyMessage.stream_id, 'node-resume');
    assert.equal(session.readyMessage.resumable, true);

    // The reference: the same config and audio through the server that was not disturbed.
    const survivor = server === first ? second : first;
    const alone = ac.connect(survivor.address, { timeoutMs: 60000 });
    try {
      const reference = alone.stream(RESUME_CONFIG);
      const referenceSending = feed(reference, false);
      const expected = await reference.collect();
      await referenceSending;
      assert.equal(expected.resumes, 0);
      assert.deepEqual(updateEvents(expected.events), Array(updates).fill(true));
      const got = Buffer.concat(output);
      assert.equal(got.length, expected.output.length);
      assert.ok(got.equals(expected.output), 'the resumed output differs from the undisturbed');
    } finally {
      alone.close();
    }
    await stopServer(survivor);
  }

  it('gives up with UNAVAILABLE after 5 resume calls when no server is left', async () => {
    const server = await startServer();
    const one = ac.connect(server.address, { timeoutMs: 60000 });
    // Counts the channels opened for resume calls.
    let opened = 0;
    const newStub = one._newStub;
    one._newStub = () => { ++opened; return newStub(); };
    try {
      const session = one.stream(RESUME_CONFIG);
      const sending = (async () => {
        for (let i = 0; i < 1000 && !session.done; ++i) {
          await session.write(Buffer.alloc(640)).catch(() => {});
          await delay(5);
        }
      })();
      let killed;
      let failedAfterMs;
      await assert.rejects((async () => {
        for await (const response of session) {
          if (response.response === 'checkpoint' && !killed) {
            server.child.kill('SIGKILL');
            killed = performance.now();
          }
        }
      })().finally(() => { failedAfterMs = performance.now() - killed; }), (error) => {
        assert.equal(error.code, grpc.status.UNAVAILABLE, String(error));
        assert.equal(error.result.resumes, 0);
        return true;
      });
      await sending;
      assert.equal(opened, 5);
      // Waits of 100, 200, 400 and 800 ms between the calls.
      assert.ok(failedAfterMs >= 1500, `${failedAfterMs} ms`);
    } finally {
      one.close();
    }
    await server.exited;
    servers = servers.filter((s) => s !== server);
    server.cleanup();
  });

  it('fails clearly when a resumed call does not go on from the checkpoint', async () => {
    // grpc-js calls played by hand: the first ends UNAVAILABLE after a checkpoint at chunk 3,
    // the resume call answers ready after chunk 2.
    const fakeCall = (onWrite) => {
      const call = new EventEmitter();
      const over = (code) => {
        call.emit('status', { code, details: grpc.status[code] });
        call.emit('end');
      };
      Object.assign(call, {
        writes: [],
        write(request) {
          call.writes.push(request);
          setImmediate(() => onWrite(request, over));
          return true;
        },
        end() {},
        cancel() { setImmediate(() => over(grpc.status.CANCELLED)); },
        pause() {},
        resume() {},
      });
      return call;
    };
    const token = Buffer.from('t');
    const first = fakeCall(({ chunk }, over) => {
      if (!chunk) return;
      first.emit('data', { response: 'chunk', chunk: {
        data: Buffer.alloc(0), events: [], tail: false, metrics: { sequence: chunk.sequence } } });
      if (chunk.sequence === 3) {
        first.emit('data', { response: 'checkpoint', checkpoint: { token, sequence: 3 } });
        over(grpc.status.UNAVAILABLE);
      }
    });
    const second = fakeCall(({ resume }) => {
      if (!resume) return;
      second.emit('data', { response: 'ready',
                            ready: { resumable: true, resumed_after_sequence: 2 } });
    });
    const session = new ac.Session(first, { checkpoint_interval_ms: 20 },
                                   { open: () => ({ call: second, close() {} }) });
    first.emit('data', { response: 'ready', ready: { resumable: true } });
    for (let i = 0; i < 3; ++i) await session.write(Buffer.alloc(2));
    await assert.rejects(session.summary, (error) => {
      assert.equal(error.code, grpc.status.INTERNAL);
      assert.match(error.details,
                   /resume: the server went on after chunk 2, not after the checkpoint's chunk 3/);
      return true;
    });
    assert.deepEqual(second.writes, [{ resume: { token } }]);
    assert.equal(session.resumes, 0);
  });

  it('surfaces UNAVAILABLE as before without checkpoints, or with resume off', async () => {
    const server = await startServer(['--drain_seconds=0.5']);
    const one = ac.connect(server.address, { timeoutMs: 60000 });
    const silence = Buffer.alloc(640);
    // Chunks until the stream fails; resolves to its error.
    const run = async (config, options) => {
      const session = one.stream(config, options);
      const sending = (async () => {
        for (let i = 0; i < 1000 && !session.done; ++i) {
          await session.write(silence).catch(() => {});
          await delay(10);
        }
      })();
      await session.ready;
      const error = await session.collect().then(() => null, (e) => e);
      await sending;
      return { error, session };
    };
    try {
      const { checkpoint_interval_ms: _, ...plain } = RESUME_CONFIG;
      const runs = [run(plain), run(RESUME_CONFIG, { resume: false })];
      await delay(300);
      server.child.kill('SIGTERM');
      for (const { error, session } of await Promise.all(runs)) {
        assert.ok(error instanceof ac.AudioprocError, String(error));
        assert.equal(error.code, grpc.status.UNAVAILABLE);
        assert.equal(session.resumes, 0);
        assert.ok(error.result.chunksAnswered > 0);
      }
    } finally {
      one.close();
    }
    const exit = await server.exited;
    servers = servers.filter((s) => s !== server);
    server.cleanup();
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});

describe('command line', { timeout: TEST_TIMEOUT_MS }, () => {
  const node = (...args) => run(CLIENT, [`--addr=${server.address}`,
                                         `--timeout_s=${CALL_TIMEOUT_S}`, ...args]);
  const cpp = (...args) => run(CPP_CLIENT, [`--addr=${server.address}`, ...args]);

  it('streams a file, writes the output and prints the summary', async () => {
    const dir = tempDir();
    try {
      const out = path.join(dir, 'out.wav');
      const r = await node(`--input=${SPEECH}`, `--output=${out}`, `--chain=${DEMO_CHAIN}`,
                           '--chunk_ms=20');
      assert.equal(r.code, 0, r.stderr);
      const stdout = r.stdout.toString();
      assert.match(stdout, new RegExp(`frames in/out: ${frames()} / ${frames()}`));
      assert.match(stdout, /chain: highpass:cutoff_hz=80/);
      assert.ok(stdout.includes(`wrote ${out}`));
      const written = ac.readWav(out);
      assert.deepEqual(written.format, audio.format);
      const reference = await stream(DEMO_CHAIN, { chunkMs: 20 });
      assert.ok(written.data.equals(reference.output));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes the same WAV bytes as the C++ client for every PCM output encoding', async () => {
    const dir = tempDir();
    try {
      for (const encoding of ['', 's16', 's24', 's32', 'f32', 'mulaw', 'alaw']) {
        const flags = [`--input=${SPEECH}`, `--chain=${CLI_CHAIN}`,
                       ...(encoding ? [`--output_encoding=${encoding}`] : [])];
        const mine = path.join(dir, `node${encoding}.wav`);
        const theirs = path.join(dir, `cpp${encoding}.wav`);
        const [a, b] = await Promise.all([node(...flags, `--output=${mine}`),
                                          cpp(...flags, `--output=${theirs}`)]);
        assert.equal(a.code, 0, a.stderr);
        assert.equal(b.code, 0, b.stderr);
        const [x, y] = [fs.readFileSync(mine), fs.readFileSync(theirs)];
        if (encoding === 'f32') {
          // The PEAK chunk's timestamp (bytes 60..63) is the second each was written in.
          x.fill(0, 60, 64);
          y.fill(0, 60, 64);
        }
        assert.ok(x.equals(y), `${encoding || 'default'}: the WAV files differ`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends 24-bit and float WAVs as PCM_F32LE, as the C++ client does', async () => {
    const dir = tempDir();
    try {
      for (const encoding of ['s24', 's32', 'f32']) {
        const input = path.join(dir, `in-${encoding}.wav`);
        const made = await cpp(`--input=${SPEECH}`, `--output=${input}`, '--chain=gain',
                               `--output_encoding=${encoding}`);
        assert.equal(made.code, 0, made.stderr);
        assert.equal(ac.readWav(input).format.encoding, 'PCM_F32LE');
        const flags = [`--input=${input}`, '--chain=gain:gain_db=-3', '--output_encoding=s24'];
        const [a, b] = await Promise.all([node(...flags, `--output=${dir}/n.wav`),
                                          cpp(...flags, `--output=${dir}/c.wav`)]);
        assert.equal(a.code, 0, a.stderr);
        assert.equal(b.code, 0, b.stderr);
        assert.ok(fs.readFileSync(`${dir}/n.wav`).equals(fs.readFileSync(`${dir}/c.wav`)),
                  `${encoding} input: the WAV files differ`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams raw PCM from stdin to stdout, the summary on stderr', async () => {
    const dir = tempDir();
    try {
      const reference = path.join(dir, 'cpp.wav');
      const made = await cpp(`--input=${SPEECH}`, `--output=${reference}`, `--chain=${CLI_CHAIN}`);
      assert.equal(made.code, 0, made.stderr);
      const r = await run(CLIENT, [`--addr=${server.address}`, '--input', '-', '--format',
                                   's16le:16000:1', '--output', '-', '--chain', CLI_CHAIN],
                          { input: audio.data });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.equals(ac.readWav(reference).data), 'raw output differs');
      assert.match(r.stderr, new RegExp(`frames in/out: ${frames()} / ${frames()}`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a JSON StreamConfig and prints the summary as proto3 JSON', async () => {
    const r = await node(`--input=${SPEECH}`, '--json',
                         '--chain={"chain":[{"gain":{"gainDb":-6}}],"streamId":"node-cli.1"}');
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.toString());
    assert.equal(summary.framesOut, String(frames()));  // uint64: a string in proto3 JSON
  });

  it('exits 1 with the status for a refused config', async () => {
    const r = await node(`--input=${SPEECH}`, '--chain=gain:gain_db=99');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^audioproc-node: INVALID_ARGUMENT: .*gain\.gain_db/);
  });

  it('exits 1 for a bad one-line chain before streaming', async () => {
    const r = await node(`--input=${SPEECH}`, '--chain=hipass:cutoff_hz=80');
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes("--chain: chain[0]: unknown processor 'hipass'"), r.stderr);
  });

  it('exits 1 for raw input without --format', async () => {
    const r = await node('--input=-');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /INVALID_ARGUMENT: --input - needs --format/);
  });

  it('lists the processors as the C++ client does', async () => {
    const [r, reference] = await Promise.all([node('--list'), cpp('--list')]);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['gain', 'highpass', 'limiter']) {
      assert.match(r.stdout.toString(), new RegExp(`\n${name}: `));
    }
    assert.equal(r.stdout.toString(), reference.stdout.toString());
  });
});

// The same table as the Python client's test. Each expected chain is proto3 JSON; protobufjs's
// own fromObject on a camelCase reflection of the proto turns it into bytes, and the parser's
// chain is encoded as grpc-js sends it (proto-loader's keepCase reflection); the bytes must be
// equal.
describe('chain parser', () => {
  const { cases } = JSON.parse(
    fs.readFileSync(path.join(__dirname, 'chain_cases.json'), 'utf8'));
  const { protobuf, root } = load();
  const camelRoot = new protobuf.Root().loadSync(PROTO_PATH);
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
    for (const field of load().root.lookupType('audioproc.v1.ProcessorSpec').oneofs.processor
      .fieldsArray) {
      assert.deepEqual(ac.parseChain(field.name), [{ [field.name]: {} }]);
    }
  });
});

describe('WAV files', () => {
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
  const floats = (buffer) => Array.from({ length: buffer.length / 4 },
                                        (_, i) => buffer.readFloatLE(4 * i));

  it('reads back what it writes', () => {
    const pcm = { data: Buffer.from(Array.from({ length: 768 }, (_, i) => i % 256)),
                  format: { encoding: 'PCM_S16LE', sample_rate_hz: 48000, channels: 2 } };
    const bytes = ac.encodeWav(pcm);
    assert.equal(bytes.length, 44 + 768);
    assert.deepEqual(ac.decodeWav(bytes), pcm);
  });

  it('skips other chunks (odd-sized ones padded) and cuts a partial frame', () => {
    const bytes = wav([chunk('LIST', Buffer.from('abc')), fmt(1, 1, 8000, 16),
                       chunk('data', Buffer.from([1, 0, 2, 0, 3]))]);
    assert.deepEqual(ac.decodeWav(bytes), {
      data: Buffer.from([1, 0, 2, 0]),
      format: { encoding: 'PCM_S16LE', sample_rate_hz: 8000, channels: 1 },
    });
  });

  it('reads 8-, 24- and 32-bit PCM and float as PCM_F32LE, scaled as libsndfile does', () => {
    const cases = [
      [1, 8, Buffer.from([0, 128, 255]), [-1, 0, 127 / 128]],
      [1, 24, Buffer.from([0, 0, 0x80, 0, 0, 0x40, 0xff, 0xff, 0xff]), [-1, 0.5, -1 / 8388608]],
      [1, 32, Buffer.from([0, 0, 0, 0x80, 0, 0, 0, 0x40]), [-1, 0.5]],
    ];
    const f32 = Buffer.alloc(8);
    f32.writeFloatLE(0.25, 0);
    f32.writeFloatLE(-2, 4);
    cases.push([3, 32, f32, [0.25, -2]]);
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(0.1, 0);
    cases.push([3, 64, f64, [Math.fround(0.1)]]);
    for (const [tag, bits, data, expected] of cases) {
      const audio = ac.decodeWav(wav([fmt(tag, 1, 8000, bits), chunk('data', data)]));
      assert.equal(audio.format.encoding, 'PCM_F32LE', `${tag}/${bits}`);
      assert.deepEqual(floats(audio.data), expected, `${tag}/${bits}`);
    }
  });

  it('refuses compressed WAVs and what is not a WAV', () => {
    for (const [tag, bits] of [[2, 4], [7, 8], [1, 12]]) {
      assert.throws(() => ac.decodeWav(wav([fmt(tag, 1, 8000, bits),
                                            chunk('data', Buffer.alloc(8))])),
                    /is not supported/);
    }
    assert.throws(() => ac.decodeWav(Buffer.from('not a wav file')), /not a RIFF\/WAVE file/);
  });

  it('writes float WAVs with fact and PEAK chunks, as libsndfile does', () => {
    const data = Buffer.alloc(16);
    [0.5, -0.25, 0.25, 0.75].forEach((v, i) => data.writeFloatLE(v, 4 * i));
    const bytes = ac.encodeWav({ data, format: { encoding: 'PCM_F32LE', sample_rate_hz: 8000,
                                                 channels: 2 } }, { timestamp: 1234 });
    assert.equal(bytes.toString('latin1', 36, 40), 'fact');
    assert.equal(bytes.readUInt32LE(44), 2);  // frames
    assert.equal(bytes.toString('latin1', 48, 52), 'PEAK');
    assert.equal(bytes.readUInt32LE(60), 1234);
    assert.deepEqual([bytes.readFloatLE(64), bytes.readUInt32LE(68), bytes.readFloatLE(72),
                      bytes.readUInt32LE(76)], [0.5, 0, 0.75, 1]);
    assert.equal(bytes.toString('latin1', 80, 84), 'data');
    assert.deepEqual(ac.decodeWav(bytes).data, data);
  });

  it('parses raw formats', () => {
    assert.deepEqual(ac.parseFormat('s16le:16000:1'),
                     { encoding: 'PCM_S16LE', sample_rate_hz: 16000, channels: 1 });
    assert.deepEqual(ac.parseFormat('F32LE:48000:2').encoding, 'PCM_F32LE');
    assert.throws(() => ac.parseFormat('s16le:16000'), /ENCODING:RATE:CHANNELS/);
    assert.throws(() => ac.parseFormat('s8:16000:1'), /unknown encoding/);
  });
});
