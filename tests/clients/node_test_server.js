// What the Node client's tests share: the real audioproc-server on free loopback ports, test
// certificates made with openssl, and a few signal measures.
//
// The server binary is $AUDIOPROC_BUILD_DIR/service/audioproc-server (default: build/ at the
// repository root). It is started with --port=0 and --port_file, stopped with SIGTERM, and
// must exit 0.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: delay } = require('node:timers/promises');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD_DIR = path.resolve(process.env.AUDIOPROC_BUILD_DIR ?? path.join(ROOT, 'build'));
const SERVER = path.join(BUILD_DIR, 'service', 'audioproc-server');
const CPP_CLIENT = path.join(BUILD_DIR, 'clients', 'audioproc-client');
const SPEECH = path.join(ROOT, 'clients', 'demo', 'speech_16k.wav');
const STARTUP_TIMEOUT_MS = 30000;

// audioproc-server on free loopback ports, its log in a temporary directory.
class ServerProcess {
  // Starts the server with `args` added to the port flags; resolves once it has bound. On
  // failure nothing is left behind: the process is killed, its directory removed.
  static async start(args = []) {
    const server = new ServerProcess();
    try {
      return await server.launch(args);
    } catch (error) {
      server.child?.kill('SIGKILL');
      server.cleanup();
      throw error;
    }
  }

  async launch(args) {
    const server = this;
    server.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audioproc-nodetest-'));
    server.logPath = path.join(server.dir, 'server.log');
    const portFile = path.join(server.dir, 'ports.json');
    const log = fs.openSync(server.logPath, 'w');
    server.child = spawn(SERVER, ['--host=127.0.0.1', '--port=0', '--metrics_port=0',
                                  `--port_file=${portFile}`, ...args],
                         { stdio: ['ignore', log, log] });
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
          server.port = ports.grpc;
          server.metricsPort = ports.metrics;
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
    throw new Error(`no port file after ${STARTUP_TIMEOUT_MS} ms:\n${server.log()}`);
  }

  log() { return fs.readFileSync(this.logPath, 'utf8'); }

  // The value of the unlabelled metric `name` on /metrics (NaN if it is not there).
  async metric(name) {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.slice(name.length + 1));
  }

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

  cleanup() { if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true }); }
}

// A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, all
// signed by the CA, as PEM files in `dir`: {ca, serverCert, serverKey, clientCert, clientKey}.
function makeCertificates(dir) {
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...key, '-keyout', file('ca.key'), '-out', file('ca.pem'),
          '-days', '2', '-subj', '/CN=audioproc test CA');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
                             ['client', 'extendedKeyUsage=clientAuth']]) {
    openssl('req', ...key, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`),
            '-subj', `/CN=audioproc test ${name}`);
    fs.writeFileSync(file(`${name}.ext`), `${ext}\n`);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey',
            file('ca.key'), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '2',
            '-extfile', file(`${name}.ext`));
  }
  return {
    ca: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server.key'),
    clientCert: file('client.pem'), clientKey: file('client.key'),
  };
}

// The s16le samples of `buffer`.
function samples(buffer) {
  return new Int16Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length));
}

function peak(values) {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max;
}

// RMS level of s16le `buffer` in dBFS.
function rmsDb(buffer) {
  let sum = 0;
  const s = samples(buffer);
  for (const v of s) sum += (v / 32768) ** 2;
  return 10 * Math.log10(sum / Math.max(1, s.length) + 1e-20);
}

// `seconds` of a `hz` sine at `amplitude` (of full scale), 16 kHz mono s16le.
function sine(seconds, { hz = 440, amplitude = 0.25, rate = 16000 } = {}) {
  const out = Buffer.alloc(2 * Math.round(seconds * rate));
  for (let i = 0; i < out.length / 2; ++i) {
    out.writeInt16LE(Math.round(amplitude * 32767 * Math.sin(2 * Math.PI * hz * i / rate)), 2 * i);
  }
  return out;
}

module.exports = {
  BUILD_DIR, CPP_CLIENT, ROOT, SERVER, SPEECH, ServerProcess, makeCertificates, peak, rmsDb,
  samples, sine,
};
