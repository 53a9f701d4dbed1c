// A client of the AudioProcessor service: connect() and the three RPCs.
'use strict';

const fs = require('node:fs');

const grpc = require('@grpc/grpc-js');

const { messageFromObject, parseChain, parseStreamConfig } = require('./chain');
const { fromServiceError } = require('./errors');
const { parseFormat } = require('./pcm');
const { load } = require('./proto');
const { Session } = require('./session');

// PEM text from a Buffer, PEM text, or the path of a PEM file.
function pem(value, what) {
  if (value === undefined || value === null || value === '') return null;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string') throw new TypeError(`${what}: a Buffer, PEM text or a path`);
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  return fs.readFileSync(value);
}

// A StreamConfig from what stream() takes: one-line or JSON chain text, or an object with the
// proto's (or proto3 JSON) field names, whose `chain` may be text and `input` and `output` may
// be 'ENCODING:RATE:CHANNELS'. Throws ChainError (or Error for a bad format).
function toStreamConfig(config) {
  if (typeof config === 'string') return parseStreamConfig(config);
  const { chain, input, output, ...rest } = config ?? {};
  const message = messageFromObject('StreamConfig', {
    ...rest,
    ...(input !== undefined && { input: typeof input === 'string' ? parseFormat(input) : input }),
    ...(output !== undefined &&
        { output: typeof output === 'string' ? parseFormat(output) : output }),
  });
  if (chain !== undefined) message.chain = typeof chain === 'string' ? parseChain(chain) : chain;
  return message.chain === undefined ? { ...message, chain: [] } : message;
}

// A client of one server. Options apply to every call unless a call's own options say
// otherwise (`token`, `timeoutMs`).
class Client {
  constructor(address, {
    tls = false, ca, cert, key, token = '', timeoutMs = 0, channelOptions = {},
  } = {}) {
    const { AudioProcessor } = load();
    const roots = pem(ca, 'ca');
    const certChain = pem(cert, 'cert');
    const privateKey = pem(key, 'key');
    if (Boolean(certChain) !== Boolean(privateKey)) {
      throw new Error('a client certificate needs both cert and key');
    }
    const credentials = tls || roots || certChain
      ? grpc.credentials.createSsl(roots, privateKey, certChain)
      : grpc.credentials.createInsecure();
    this.address = address;
    this._token = token;
    this._timeoutMs = timeoutMs;
    // A response is as large as the chunk that caused it, and a whole-file response may exceed
    // gRPC's 4 MiB default; the server enforces its own limits.
    const options = {
      'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1,
      ...channelOptions,
    };
    // A channel of its own, to the same target, for each resumed stream.
    this._newStub = () => new AudioProcessor(address, credentials, options);
    this._stub = this._newStub();
  }

  _metadata(token) {
    const metadata = new grpc.Metadata();
    const bearer = token ?? this._token;
    if (bearer) metadata.set('authorization', `Bearer ${bearer}`);
    return metadata;
  }

  _callOptions(timeoutMs) {
    const ms = timeoutMs ?? this._timeoutMs;
    return ms > 0 ? { deadline: Date.now() + ms } : {};
  }

  // Opens a Process stream and sends `config` (see toStreamConfig; `input` is required) at
  // once. Returns the Session. Options: `token`, `timeoutMs` (deadline of the whole stream,
  // resumes included), `queueLimit` (unread responses kept before reading pauses), `resume`
  // (default true: a config with checkpoint_interval_ms > 0 is resumed on a new channel when
  // its call ends UNAVAILABLE; see Session). Throws ChainError for a chain that does not
  // parse; everything the server refuses comes from the session.
  stream(config, { token, timeoutMs, queueLimit, resume = true } = {}) {
    const message = toStreamConfig(config);
    const callOptions = this._callOptions(timeoutMs);
    const call = this._stub.Process(this._metadata(token), callOptions);
    // A resume call goes on a new channel (a new connection, so load balancing picks a
    // server again), with the same credentials: the token is bound to them.
    const open = () => {
      const stub = this._newStub();
      return { call: stub.Process(this._metadata(token), callOptions), close: () => stub.close() };
    };
    const session = new Session(call, message, { queueLimit, open, resume });
    call.write({ config: message });
    return session;
  }

  // Processes a whole encoded file (any container the server reads) with one ProcessFile
  // call. `file` is a Buffer or a path. Options: `chain` (text or specs), `output` (FileFormat:
  // container, encoding, sample_rate_hz, channels; unset: the input's), `dither`, `token`,
  // `timeoutMs`. Resolves to {file: Buffer, summary, input}; rejects with AudioprocError.
  processFile(file, { chain = [], output, dither, token, timeoutMs } = {}) {
    let request;
    try {
      request = messageFromObject('ProcessFileRequest', {
        ...(output !== undefined && { output }), ...(dither !== undefined && { dither }),
      });
      request.file = Buffer.isBuffer(file) ? file : fs.readFileSync(file);
      request.chain = typeof chain === 'string' ? parseChain(chain) : chain;
    } catch (error) {
      return Promise.reject(error);
    }
    return this._unary('ProcessFile', request, token, timeoutMs);
  }

  // Every processor the server offers, with each parameter's type, unit, default, range and
  // whether it can be updated mid-stream. Resolves to the ListProcessorsResponse.
  listProcessors({ token, timeoutMs } = {}) {
    return this._unary('ListProcessors', {}, token, timeoutMs);
  }

  _unary(method, request, token, timeoutMs) {
    return new Promise((resolve, reject) => {
      this._stub[method](request, this._metadata(token), this._callOptions(timeoutMs),
                         (error, response) => {
                           if (error) reject(fromServiceError(error));
                           else resolve(response);
                         });
    });
  }

  // Closes the channel; calls in flight go on until they end.
  close() { this._stub.close(); }

  // The grpc-js client underneath, for what this API does not cover.
  get grpcClient() { return this._stub; }
}

// A Client of the server at `address` (host:port). Options: `tls` (TLS with the system's
// roots), `ca` (roots to verify the server with; turns TLS on), `cert` and `key` (a client
// certificate for mutual TLS) — each a Buffer, PEM text or a file path; `token` (sent as
// `authorization: Bearer <token>`), `timeoutMs` (every call's deadline; 0: none),
// `channelOptions` (grpc-js channel options).
function connect(address, options) { return new Client(address, options); }

module.exports = { Client, connect, toStreamConfig };
