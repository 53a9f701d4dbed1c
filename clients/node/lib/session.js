// One Process stream: chunks and updates written with backpressure, responses read with
// `for await`, the summary at the end.
//
// Thread safety: none needed (one JavaScript thread); a session is written by one writer at a
// time (write() calls queue in order) and iterated once.
//
// Resume: a stream whose config has checkpoint_interval_ms > 0 keeps the server's last
// Checkpoint and every request sent after it. When the call ends UNAVAILABLE (a draining
// server) it opens a new call on a new channel, sends ResumeStream{token}, checks that `ready`
// goes on from the checkpoint, sends the kept requests again and goes on; chunk responses the
// old server had already answered are dropped. The caller sees one stream.
'use strict';

const { Readable } = require('node:stream');
const { setTimeout: delay } = require('node:timers/promises');

const grpc = require('@grpc/grpc-js');

const { messageFromObject, parseChain } = require('./chain');
const { AudioprocError } = require('./errors');
const { bytesPerFrame } = require('./pcm');

// Responses kept for an iterator that lags; past this the call is paused, so HTTP/2 flow
// control slows the server down instead of memory growing.
const DEFAULT_QUEUE_LIMIT = 32;
// Calls one resume may take while they fail UNAVAILABLE before ready, and the wait before the
// second (doubling after it).
const RESUME_ATTEMPTS = 5;
const RESUME_BACKOFF_MS = 100;

// A promise with its settle functions; rejections are marked handled (they are also reported
// where the caller looks: the iterator, `ready`, `summary`).
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function isBytes(value) { return value instanceof Uint8Array || ArrayBuffer.isView(value); }

function toBuffer(value) {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'latin1');
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (isBytes(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`a chunk must be a Buffer, a typed array or {data, sequence}, not ${
    typeof value}`);
}

// The pieces of (async) iterable `source` cut into `chunkBytes`-byte chunks (the last may be
// shorter); with chunkBytes 0, the pieces as they come. Slices, no copies, where it can.
async function* rechunk(source, chunkBytes) {
  if (!(chunkBytes > 0)) {
    for await (const piece of source) yield toBuffer(piece);
    return;
  }
  let pending = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let bytes = toBuffer(piece);
    while (pendingBytes + bytes.length >= chunkBytes) {
      const take = chunkBytes - pendingBytes;
      const chunk = pending.length ? Buffer.concat([...pending, bytes.subarray(0, take)])
        : bytes.subarray(0, take);
      pending = [];
      pendingBytes = 0;
      bytes = bytes.subarray(take);
      yield chunk;
    }
    if (bytes.length) {
      pending.push(bytes);
      pendingBytes += bytes.length;
    }
  }
  if (pendingBytes) yield Buffer.concat(pending);
}

// A Process stream. Made by Client.stream(); the config has already been sent.
//
//   const session = client.stream({ input: 's16le:16000:1', chain: 'gain:gain_db=6' });
//   const sending = session.pipeFrom(source);           // any (async) iterable or Readable
//   for await (const response of session) { ... }      // ready, chunks, summary
//   await sending;
//
// Responses are ProcessResponse objects: `response.response` names the one that is set
// ('ready', 'chunk', 'checkpoint' or 'summary'), e.g. `response.chunk.data`, `.metrics`,
// `.events`. Read them while writing: a session keeps at most `queueLimit` unread responses
// and then stops reading, the server stops answering, and writes wait.
//
// `open()` opens a Process call on a new channel for a resume: {call, close} (close: the
// channel's); without it, or with `resume: false`, a stream is not resumed.
class Session {
  constructor(call, config, { queueLimit = DEFAULT_QUEUE_LIMIT, open = null, resume = true } = {}) {
    this._config = config;
    this._queueLimit = queueLimit;
    this._queue = [];
    this._paused = false;
    this._wake = null;
    // Who reads the responses: nobody yet ('none'), the iterator ('iterator': they are queued
    // for it), or the session itself ('drain': an awaited summary with no iterator, or the
    // iterator left early; they are counted and dropped).
    this._reader = 'none';
    this._writeTail = Promise.resolve();
    this._ended = false;
    this._done = false;
    this._cancelled = false;
    this._error = null;      // For the iterator to throw, once.
    this._doneError = null;  // The stream's failure, for writes after it.
    this._outstanding = [];  // {sequence, sentAt} of chunks not yet answered, in order.
    this._ready = deferred();
    this._summary = deferred();
    this._finished = deferred();
    // Resume state (see the top of the file).
    this._open = open;
    this._resumeOn = Boolean(open) && resume !== false && config.checkpoint_interval_ms > 0;
    this._checkpoint = null;    // The last Checkpoint.
    this._held = [];            // The requests sent after it, in order.
    this._halfClosed = false;   // end() has reached the call.
    this._attempts = 0;         // Calls the resume under way has opened.
    this._resuming = null;      // Deferred while a resume is under way: writes wait for it.
    this._opening = false;      // Waiting to open a resume call (the old call is over).
    this._failure = null;       // The session's own status for a resume that went wrong.
    this._closeChannel = null;  // Closes the channel of the resumed call.
    this._lastSequence = 0;     // The highest chunk sequence answered to the caller.

    this.readyMessage = null;
    this.summaryMessage = null;
    this.chunksSent = 0;
    this.chunksAnswered = 0;
    this.tailReceived = false;
    // Times write() had to wait for 'drain' (grpc-js's write() returned false).
    this.writesWaited = 0;
    // Departures from DESIGN.md section 3 ("Process, message by message") seen.
    this.protocolErrors = [];
    // Milliseconds from writing the last answered chunk to its answer.
    this.lastChunkLatencyMs = null;
    // Times the stream went on on a new call after a checkpoint.
    this.resumes = 0;

    this._attach(call);
  }

  // Makes `call` the session's call; events of an earlier call are ignored from then on.
  _attach(call) {
    this._call = call;
    this._status = null;
    this._readEnded = false;
    this._callReady = false;  // This call has answered ready.
    const current = (handler) => (value) => { if (this._call === call) handler(value); };
    call.on('data', current((response) => this._onResponse(response)));
    call.on('status', current((status) => { this._status = status; this._maybeFinish(); }));
    call.on('error', () => {});  // Reported through 'status'.
    call.on('end', current(() => { this._readEnded = true; this._maybeFinish(); }));
    call.on('close', current(() => { this._readEnded = true; this._maybeFinish(); }));
    if (this._paused) call.pause();
  }

  // Resolves to the StreamReady (resolved chain, output format, latency, stream id); rejects
  // with AudioprocError if the stream fails first (a refused config: INVALID_ARGUMENT).
  get ready() { return this._ready.promise; }

  // Resolves to the StreamSummary once it has been read; rejects with AudioprocError if the
  // stream fails. Awaiting it on a session that is not being iterated reads (and drops) the
  // remaining responses itself.
  get summary() {
    const session = this;
    return {
      then(onFulfilled, onRejected) {
        if (session._reader === 'none') session._drain();
        return session._summary.promise.then(onFulfilled, onRejected);
      },
      catch(onRejected) { return this.then(undefined, onRejected); },
      finally(onFinally) {
        return this.then((v) => { onFinally?.(); return v; },
                         (e) => { onFinally?.(); throw e; });
      },
    };
  }

  // True once the call is over (status received and every response read).
  get done() { return this._done; }

  // Sends one AudioChunk: a Buffer or typed array (sequence: one more than the last), or
  // {data, sequence}. Resolves once grpc-js can take more (after 'drain' when its write()
  // returned false); rejects with AudioprocError if the stream is over. Writes are sent in the
  // order they are called.
  write(chunk) {
    let data;
    let sequence;
    if (isBytes(chunk) || chunk instanceof ArrayBuffer || typeof chunk === 'string') {
      data = toBuffer(chunk);
    } else if (chunk && chunk.data !== undefined) {
      data = toBuffer(chunk.data);
      sequence = chunk.sequence;
    } else {
      return Promise.reject(new TypeError('write() takes a Buffer, a typed array or {data, ' +
                                          'sequence}'));
    }
    return this._enqueue(() => {
      sequence ??= this.chunksSent + 1;
      this.chunksSent += 1;
      this._outstanding.push({ sequence, sentAt: performance.now() });
      return { chunk: { data, sequence } };
    });
  }

  // Sends a ChainUpdate mid-stream; it applies at the next chunk boundary and the next chunk
  // response carries an `update` event saying whether it was applied. Takes:
  //   update(index, spec)           spec: 'gain:gain_db=-6' or {gain: {gain_db: -6}}
  //   update('highpass,gain:gain_db=-6')  a whole chain (one-line or JSON, or an array of
  //                                 specs): each position that sets parameters is updated
  //   update({index, spec}), update([{index, spec}, ...]), update({updates: [...]})
  // Throws ChainError for one that does not parse; resolves as write() does.
  update(update, spec) {
    let message;
    try {
      message = { update: messageFromObject('ChainUpdate', { updates: updatesOf(update, spec) }) };
    } catch (error) {
      return Promise.reject(error);
    }
    return this._enqueue(() => message);
  }

  // Half-closes the stream after the writes before it: the end of the input. The server then
  // sends the tail chunk, the summary and the status.
  end() {
    if (this._ended) return this._writeTail;
    this._ended = true;
    const ending = this._writeTail.then(async () => {
      if (this._resuming) await this._resuming.promise;
      this._halfClosed = true;  // A resumed call is half-closed too.
      if (!this._done && this._status === null) this._call.end();
    });
    this._writeTail = ending.catch(() => {});
    return ending;
  }

  // Cancels the call (the server frees the stream at once); the iterator, `ready` and
  // `summary` then fail with CANCELLED unless they already finished.
  cancel() {
    if (this._done) return;
    this._cancelled = true;
    if (!this._opening) this._call.cancel();
  }

  // Writes every chunk of `source` and then ends the stream: `source` is a Buffer (cut into
  // chunks), or any iterable, async iterable or Node Readable of Buffers or typed arrays.
  // Options: `chunkBytes` or `chunkMs` (cut the source into chunks of that size; default:
  // pieces as they come, except a Buffer source: 20 ms), `realtime` (send chunk i at start +
  // i x its duration, like a live source), `end` (default true). Waits for each write, so a
  // Readable is read no faster than the server takes it. Resolves to the number of chunks
  // sent, also when the stream ended first (its error comes from the responses); rejects if
  // the source fails, after cancelling the call.
  async pipeFrom(source, { chunkBytes = 0, chunkMs = 0, realtime = false, end = true } = {}) {
    const frameBytes = bytesPerFrame(this._config.input);
    const rate = this._config.input?.sample_rate_hz ?? 0;
    if (isBytes(source) && !(chunkBytes > 0) && !(chunkMs > 0)) chunkMs = 20;
    if (!(chunkBytes > 0) && chunkMs > 0) {
      if (!frameBytes || !rate) throw new Error('chunkMs needs the stream\'s input format');
      chunkBytes = Math.max(1, Math.floor(rate * chunkMs / 1000)) * frameBytes;
    }
    if (realtime && (!frameBytes || !rate)) throw new Error('realtime needs the input format');
    let iterable = source;
    if (isBytes(source)) iterable = [toBuffer(source)];
    else if (typeof source === 'string') throw new TypeError('pipeFrom() takes bytes, not text');
    else if (!source?.[Symbol.asyncIterator] && !source?.[Symbol.iterator]) {
      if (typeof source?.read === 'function') iterable = Readable.from(source);
      else throw new TypeError('pipeFrom() takes an iterable, an async iterable or a Readable');
    }
    const start = performance.now();
    let framesSent = 0;
    let sent = 0;
    try {
      for await (const chunk of rechunk(iterable, chunkBytes)) {
        if (this._done) break;
        if (realtime) {
          const due = start + (framesSent / rate) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await delay(wait);
        }
        try {
          await this.write(chunk);
        } catch (error) {
          if (error instanceof AudioprocError || this._done) break;
          throw error;
        }
        ++sent;
        if (frameBytes) framesSent += chunk.length / frameBytes;
      }
    } catch (error) {
      this.cancel();
      throw error;
    }
    if (end && !this._done) await this.end().catch(() => {});
    return sent;
  }

  // Reads every remaining response and resolves to what the stream answered: {ready, chunks
  // (ProcessedChunk, tail excluded), tail, summary, events, output (all chunks' audio),
  // chunksSent, resumes, protocolErrors}. Rejects with AudioprocError whose `result` is the
  // same, so far. Keeps the whole output in memory: for files, not for live streams.
  async collect() {
    const result = {
      ready: null, chunks: [], tail: null, summary: null, events: [], output: null,
      chunksSent: 0, resumes: 0, protocolErrors: this.protocolErrors,
    };
    const pieces = [];
    const fill = () => {
      result.output = Buffer.concat(pieces);
      result.chunksSent = this.chunksSent;
      result.resumes = this.resumes;
    };
    try {
      for await (const response of this) {
        if (response.response === 'ready') {
          result.ready = response.ready;
        } else if (response.response === 'chunk') {
          const { chunk } = response;
          if (chunk.tail) result.tail = chunk;
          else result.chunks.push(chunk);
          result.events.push(...chunk.events);
          pieces.push(chunk.data);
        } else if (response.response === 'summary') {
          result.summary = response.summary;
        }
      }
    } catch (error) {
      fill();
      if (error instanceof AudioprocError) error.result = { ...error.result, ...result };
      throw error;
    }
    fill();
    return result;
  }

  // The responses, in order: ready, one chunk per chunk written, the tail chunk, the summary.
  // Throws AudioprocError after the last response if the stream failed. Leaving the loop
  // early (break) before the summary cancels the call. A session is iterated once.
  [Symbol.asyncIterator]() {
    if (this._reader !== 'none') throw new Error('a session is iterated only once');
    this._reader = 'iterator';
    return {
      next: () => this._next(),
      return: async () => {
        if (this.summaryMessage === null) this.cancel();
        this._queue = [];
        this._reader = 'drain';
        this._resume();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() { return this; },
    };
  }

  // What the stream answered so far, for AudioprocError.result.
  _partial() {
    return {
      ready: this.readyMessage, chunksSent: this.chunksSent, chunksAnswered: this.chunksAnswered,
      tail: this.tailReceived, summary: this.summaryMessage, resumes: this.resumes,
      protocolErrors: this.protocolErrors,
    };
  }

  async _next() {
    for (;;) {
      if (this._queue.length) {
        const value = this._queue.shift();
        if (this._queue.length <= this._queueLimit / 2) this._resume();
        return { done: false, value };
      }
      if (this._done) {
        if (this._error !== null) {
          const error = this._error;
          this._error = null;  // Thrown once; the next call says done.
          throw error;
        }
        return { done: true, value: undefined };
      }
      await new Promise((resolve) => { this._wake = resolve; });
    }
  }

  _notify() {
    const wake = this._wake;
    this._wake = null;
    wake?.();
  }

  _resume() {
    if (this._paused) {
      this._paused = false;
      this._call.resume();
    }
  }

  // Reads the rest without an iterator: awaited `summary` on a session nobody iterates.
  _drain() {
    if (this._reader !== 'none') return;
    this._reader = 'drain';
    this._queue = [];
    this._resume();
  }

  _enqueue(build) {
    if (this._ended) return Promise.reject(new Error('write after end()'));
    const send = async () => {
      if (this._resuming) await this._resuming.promise;
      if (this._done) throw this._overError();
      const request = build();
      if (this._resumeOn) this._held.push(request);
      // A call that is over takes nothing more; a resume sends the held requests again.
      if (this._status === null && !this._call.write(request)) {
        ++this.writesWaited;
        await this._waitDrain();
      }
    };
    const sending = this._writeTail.then(send);
    this._writeTail = sending.catch(() => {});
    return sending;
  }

  // Resolves on 'drain', or when the call is over (then 'drain' never comes).
  _waitDrain() {
    const call = this._call;
    return new Promise((resolve) => {
      const done = () => {
        call.off('drain', done);
        call.off('status', done);
        resolve();
      };
      call.on('drain', done);
      call.on('status', done);
      this._finished.promise.then(done, done);
    });
  }

  _overError() {
    return this._doneError ?? new AudioprocError(
      { code: grpc.status.FAILED_PRECONDITION, details: 'the stream is over' }, this._partial());
  }

  _violation(what) { this.protocolErrors.push(what); }

  _onResponse(response) {
    const kind = response.response;
    if (this.readyMessage !== null && !this._callReady) {
      this._onResumed(response);
      return;
    }
    if (this.summaryMessage !== null) this._violation(`${kind} after the summary`);
    if (kind === 'ready') {
      if (this.readyMessage !== null || this.chunksAnswered || this.tailReceived) {
        this._violation('ready is not the first response');
      }
      this.readyMessage = response.ready;
      this._callReady = true;
      if (!response.ready.resumable) this._stopHolding();
      this._ready.resolve(response.ready);
    } else if (kind === 'chunk') {
      const { chunk } = response;
      if (this.resumes && (chunk.tail ? this.tailReceived
        : chunk.metrics?.sequence <= this._lastSequence)) {
        // Answered before the resume already: the new call's answer is the same.
        if (!chunk.tail) this._outstanding.shift();
        return;
      }
      if (this.readyMessage === null) this._violation('a chunk before ready');
      if (this.tailReceived) this._violation('a chunk after the tail');
      if (chunk.tail) {
        this.tailReceived = true;
      } else {
        ++this.chunksAnswered;
        const sent = this._outstanding.shift();
        if (sent === undefined) {
          this._violation(`chunk response ${this.chunksAnswered} for ${this.chunksSent} chunks`);
        } else {
          if (chunk.metrics?.sequence !== sent.sequence) {
            this._violation(`chunk response ${this.chunksAnswered} has sequence ${
              chunk.metrics?.sequence}, not ${sent.sequence}`);
          }
          this.lastChunkLatencyMs = performance.now() - sent.sentAt;
        }
        this._lastSequence = Math.max(this._lastSequence, chunk.metrics?.sequence ?? 0);
      }
    } else if (kind === 'checkpoint') {
      if (this._resumeOn) this._keep(response.checkpoint);
    } else if (kind === 'summary') {
      if (!this.tailReceived) this._violation('summary before the tail');
      this.summaryMessage = response.summary;
    } else {
      this._violation('a response with nothing set');
    }
    if (this._reader === 'drain') return;
    this._queue.push(response);
    if (this._queue.length >= this._queueLimit && !this._paused) {
      this._paused = true;
      this._call.pause();
    }
    this._notify();
  }

  _stopHolding() {
    this._resumeOn = false;
    this._held = [];
  }

  // A checkpoint covers every request up to its chunk's: only the ones after it are held.
  _keep(checkpoint) {
    this._checkpoint = checkpoint;
    let covered = 0;
    this._held.forEach((request, i) => {
      if (request.chunk && request.chunk.sequence <= checkpoint.sequence) covered = i + 1;
    });
    this._held.splice(0, covered);
  }

  // Whether the call that just ended is to be resumed: it ended UNAVAILABLE after ready, with
  // a checkpoint held; or it was a resume call that failed UNAVAILABLE before its ready (or was
  // CANCELLED by a server shutting down as it arrived, not by us), and the resume has attempts
  // left.
  _canResume() {
    const refusedResume = this._attempts > 0 && !this._callReady &&
      this._status.code === grpc.status.CANCELLED;
    return this._resumeOn && this._checkpoint !== null && this.readyMessage !== null &&
      this._failure === null && !this._cancelled &&
      (this._status.code === grpc.status.UNAVAILABLE || refusedResume) &&
      (this._callReady || this._attempts < RESUME_ATTEMPTS);
  }

  // Opens the next resume call on a new channel (so load balancing may pick another server;
  // a draining one refuses new calls anyway): at once after a call that had ready, else after
  // RESUME_BACKOFF_MS, doubling with each attempt. Writes wait meanwhile.
  _reconnect() {
    this._resuming ??= deferred();
    this._opening = true;
    if (this._callReady) this._attempts = 0;
    const wait = this._attempts ? RESUME_BACKOFF_MS * 2 ** (this._attempts - 1) : 0;
    ++this._attempts;
    setTimeout(() => {
      this._opening = false;
      if (this._cancelled) {
        this._status = { code: grpc.status.CANCELLED, details: 'Cancelled on client' };
        this._maybeFinish();
        return;
      }
      this._closeChannel?.();
      const { call, close } = this._open();
      this._closeChannel = close;
      this._attach(call);
      call.write({ resume: { token: this._checkpoint.token } });
    }, wait);
  }

  // The first response of a resume call: a ready that goes on from the held checkpoint. Then
  // the held requests are sent again (the half-close too, if end() was called), and writes go
  // on on the new call.
  _onResumed(response) {
    if (this._failure !== null) return;  // Refused already; the call is being cancelled.
    const expected = this._checkpoint.sequence;
    const after = response.ready?.resumed_after_sequence;
    if (response.response !== 'ready' || after !== expected) {
      this._failure = {
        code: grpc.status.INTERNAL,
        details: `resume: the server ${response.response === 'ready'
          ? `went on after chunk ${after}` : `answered ${response.response} before ready`
        }, not after the checkpoint's chunk ${expected}`,
      };
      this._call.cancel();
      return;
    }
    this._callReady = true;
    ++this.resumes;
    const sentAt = performance.now();
    this._outstanding = [];
    for (const request of this._held) {
      if (request.chunk) this._outstanding.push({ sequence: request.chunk.sequence, sentAt });
      this._call.write(request);
    }
    if (this._halfClosed) this._call.end();
    const resuming = this._resuming;
    this._resuming = null;
    resuming.resolve();
  }

  // The status has arrived and every response before it has been read.
  _maybeFinish() {
    if (this._done || this._opening || this._status === null || !this._readEnded) return;
    if (this._canResume()) {
      this._reconnect();
      return;
    }
    this._done = true;
    this._closeChannel?.();
    this._resuming?.resolve();
    const status = this._failure ?? this._status;
    if (status.code === grpc.status.OK) {
      if (this.chunksAnswered !== this.chunksSent) {
        this._violation(`${this.chunksAnswered} chunk responses for ${this.chunksSent} chunks`);
      }
      if (!this.tailReceived) this._violation('no tail');
      if (this.summaryMessage === null) this._violation('no summary');
    }
    if (status.code !== grpc.status.OK || this.summaryMessage === null) {
      const error = new AudioprocError(
        status.code !== grpc.status.OK ? status
          : { code: grpc.status.INTERNAL, details: `protocol error: ${
            this.protocolErrors.join('; ')}`, metadata: status.metadata },
        this._partial());
      this._doneError = error;
      if (this._reader !== 'drain') this._error = error;
      this._ready.reject(error);
      this._summary.reject(error);
    } else {
      if (this.readyMessage === null) {
        this._ready.reject(new AudioprocError(
          { code: grpc.status.INTERNAL, details: 'protocol error: no ready' }, this._partial()));
      }
      this._summary.resolve(this.summaryMessage);
    }
    this._finished.resolve();
    this._notify();
  }
}

// The ProcessorUpdate list of Session.update's arguments.
function updatesOf(update, spec) {
  const oneSpec = (value) => {
    if (typeof value !== 'string') return value;
    const chain = parseChain(value);
    if (chain.length !== 1) throw new Error(`'${value}' is not one processor`);
    return chain[0];
  };
  if (typeof update === 'number') return [{ index: update, spec: oneSpec(spec) }];
  if (typeof update === 'string') update = parseChain(update);
  if (Array.isArray(update)) {
    if (update.every((u) => u && typeof u === 'object' && 'index' in u)) {
      return update.map((u) => ({ index: u.index, spec: oneSpec(u.spec) }));
    }
    // A whole chain: the positions that set parameters.
    return update.flatMap((s, index) => (
      Object.values(s).some((params) => params && Object.keys(params).length)
        ? [{ index, spec: s }] : []));
  }
  if (update && Array.isArray(update.updates)) return updatesOf(update.updates);
  if (update && typeof update === 'object' && 'index' in update) {
    return [{ index: update.index, spec: oneSpec(update.spec) }];
  }
  throw new TypeError('update() takes (index, spec), a chain, {index, spec}, a list of them ' +
                      'or {updates}');
}

module.exports = { Session, rechunk };
