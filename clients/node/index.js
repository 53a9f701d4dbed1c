// audioproc: a Node.js client of the audioproc service (real-time audio processing over gRPC).
//
//   const audioproc = require('audioproc');
//   const client = audioproc.connect('localhost:50051');
//   const session = client.stream({ input: 's16le:16000:1', chain: 'highpass:cutoff_hz=80' });
//   const sending = session.pipeFrom(process.stdin);
//   for await (const response of session) {
//     if (response.chunk) process.stdout.write(response.chunk.data);
//   }
//   await sending;
//
// See README.md and index.d.ts for the whole API.
'use strict';

const grpc = require('@grpc/grpc-js');

const chain = require('./lib/chain');
const { Client, connect } = require('./lib/client');
const { AudioprocError } = require('./lib/errors');
const pcm = require('./lib/pcm');
const { PROTO_PATH } = require('./lib/proto');
const { Session } = require('./lib/session');
const wav = require('./lib/wav');

module.exports = {
  AudioprocError,
  ChainError: chain.ChainError,
  Client,
  PROTO_PATH,
  Session,
  Status: grpc.status,
  bytesPerFrame: pcm.bytesPerFrame,
  connect,
  decodeWav: wav.decodeWav,
  encodeWav: wav.encodeWav,
  formatChain: chain.formatChain,
  parseChain: chain.parseChain,
  parseFormat: pcm.parseFormat,
  parseStreamConfig: chain.parseStreamConfig,
  readWav: wav.readWav,
  toProto3Json: chain.toProto3Json,
  writeWav: wav.writeWav,
};
