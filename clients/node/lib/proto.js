// The audioproc.v1 proto, loaded once at run time (no generated code): the grpc-js client
// constructor and the protobufjs reflection that chains are read and printed by.
//
// The proto ships inside the package (proto/audioproc/v1/audioproc.proto, copied there by the
// `prepack` script from the repository's protos/ and removed again by `postpack`); run from a
// checkout of the repository, the package reads the canonical file in protos/ instead.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const BUNDLED_PROTO = path.join(__dirname, '..', 'proto', 'audioproc', 'v1', 'audioproc.proto');
const TREE_PROTO = path.join(__dirname, '..', '..', '..', 'protos', 'audioproc', 'v1',
                             'audioproc.proto');
const PROTO_PATH = fs.existsSync(BUNDLED_PROTO) ? BUNDLED_PROTO : TREE_PROTO;
const PACKAGE = 'audioproc.v1';
// Messages are plain objects with the proto's field names (`cutoff_hz`), enums are value
// names, bytes are Buffers, 64-bit integers are Numbers, and a set oneof is named by its
// discriminator (`response.response === 'chunk'`).
const LOADER_OPTIONS = {
  keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true,
};

let loaded = null;

// The proto, loaded on first use: `definition` (proto-loader's package definition, for
// grpc-js), `AudioProcessor` (the client constructor), `root` (protobufjs reflection with the
// proto's field names) and `protobuf` (that protobufjs module). The reflection comes from the
// protobufjs that @grpc/proto-loader itself is built on: proto-loader's own descriptor objects
// fill an unset oneof_index with 0, so they cannot tell a field outside any oneof from one in
// the first oneof.
function load() {
  if (loaded === null) {
    if (!fs.existsSync(PROTO_PATH)) {
      throw new Error(`audioproc: the proto is missing (${BUNDLED_PROTO}); ` +
                      'a package packed without its prepack script?');
    }
    const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    const AudioProcessor = grpc.loadPackageDefinition(definition).audioproc.v1.AudioProcessor;
    const protobuf = require(require.resolve('protobufjs', {
      paths: [path.dirname(require.resolve('@grpc/proto-loader'))],
    }));
    const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
    root.resolveAll();
    loaded = { definition, AudioProcessor, root, protobuf };
  }
  return loaded;
}

// The protobufjs reflection of message type `name` ('audioproc.v1.Gain').
function messageType(name) { return load().root.lookupType(name); }

module.exports = { PACKAGE, PROTO_PATH, load, messageType };
