// The error every failed call rejects with.
'use strict';

const grpc = require('@grpc/grpc-js');

// A call that ended with a non-OK status: `code` (a grpc.status number), `codeName`
// ('INVALID_ARGUMENT'), `details` (the server's message), `metadata` (trailers), and `result`,
// what the call had answered before it failed (for a stream: `ready`, `chunksSent`,
// `chunksAnswered`, and, from Session.collect(), the chunks and output so far; null for a
// unary call).
class AudioprocError extends Error {
  constructor(status, result = null) {
    const codeName = grpc.status[status.code] ?? String(status.code);
    super(`${codeName}: ${status.details}`);
    this.name = 'AudioprocError';
    this.code = status.code;
    this.codeName = codeName;
    this.details = status.details;
    this.metadata = status.metadata ?? null;
    this.result = result;
  }
}

// The AudioprocError of a grpc-js ServiceError (a unary call's failure), or `error` itself.
function fromServiceError(error) {
  if (typeof error?.code !== 'number' || error instanceof AudioprocError) return error;
  return new AudioprocError(error);
}

module.exports = { AudioprocError, Status: grpc.status, fromServiceError };
