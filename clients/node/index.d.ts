// Type declarations of the audioproc package (handwritten; see lib/ for the code).
//
// Messages are plain objects with the proto's field names (`sample_rate_hz`, not
// `sampleRateHz`): enums are value names, bytes are Buffers, 64-bit integers are numbers, and
// a set oneof is named by its discriminator (`response.response === 'chunk'`). The types
// below cover the fields the API works with; the proto (proto/audioproc/v1/audioproc.proto in
// the package) has them all.

import type { Metadata, ChannelOptions, Client as GrpcClient, status } from '@grpc/grpc-js';
import type { Readable } from 'node:stream';

export type Encoding =
  | 'ENCODING_UNSPECIFIED' | 'PCM_S16LE' | 'PCM_S24LE' | 'PCM_S32LE' | 'PCM_F32LE' | 'MULAW'
  | 'ALAW';

export type Container =
  | 'CONTAINER_UNSPECIFIED' | 'WAV' | 'FLAC' | 'OGG_VORBIS' | 'OGG_OPUS' | 'AIFF';

export interface AudioFormat {
  encoding?: Encoding;
  sample_rate_hz?: number;
  channels?: number;
}

/** One processor of a chain: `{highpass: {cutoff_hz: 80}}`. */
export type ProcessorSpec = { [processor: string]: { [parameter: string]: unknown } } & {
  /** Set on specs the server sends: the name of the processor that is set. */
  processor?: string;
};

export interface StreamConfig {
  input?: AudioFormat;
  output?: AudioFormat;
  chain?: ProcessorSpec[];
  metrics?: { omit_levels?: boolean; per_channel?: boolean };
  stream_id?: string;
  dither?: 'DITHER_NONE' | 'DITHER_TPDF';
  max_chunk_bytes?: number;
  /**
   * Resumable streams (a server with --resume_key_file): a Checkpoint after every this many
   * ms of input audio. Above 0, Client.stream() resumes the stream on its own (see
   * StreamOptions.resume).
   */
  checkpoint_interval_ms?: number;
}

/**
 * What Client.stream() takes: chain text (one-line or proto3 JSON, as the command line), or a
 * StreamConfig whose `chain` may be text and whose `input` and `output` may be
 * 'ENCODING:RATE:CHANNELS' ('s16le:16000:1'). Proto3 JSON field names are accepted too.
 */
export type StreamConfigInput =
  | string
  | (Omit<StreamConfig, 'chain' | 'input' | 'output'> & {
    chain?: string | ProcessorSpec[];
    input?: string | AudioFormat;
    output?: string | AudioFormat;
    [field: string]: unknown;
  });

export interface ResourceCost { cpu_cores: number; memory_bytes: number }

export interface StreamReady {
  chain: ProcessorSpec[];
  output: Required<AudioFormat>;
  latency_frames: number;
  stream_id: string;
  max_chunk_bytes: number;
  cost: ResourceCost | null;
  processor_costs: ResourceCost[];
  /** The server sends this stream checkpoints (it can be resumed). */
  resumable: boolean;
  /** After a ResumeStream: the last chunk the checkpoint covered (0 otherwise). */
  resumed_after_sequence: number;
}

/** A resume token for the stream as it was after chunk `sequence` was answered. */
export interface Checkpoint {
  /** Opaque, signed by the server; bound to the caller's token or client certificate. */
  token: Buffer;
  sequence: number;
}

export interface ChannelLevels { peak_dbfs: number; rms_dbfs: number }

export interface ChunkMetrics {
  sequence: number;
  frames_in: number;
  frames_out: number;
  queue_wait_us: number;
  process_us: number;
  in_peak_dbfs: number;
  in_rms_dbfs: number;
  out_peak_dbfs: number;
  out_rms_dbfs: number;
  clipped_samples: number;
  nonfinite_samples: number;
  in_channel_levels: ChannelLevels[];
  out_channel_levels: ChannelLevels[];
}

export interface Event {
  frame: number;
  processor_index: number;
  event: 'voice' | 'loudness' | 'analysis' | 'update' | 'speech_probability' | 'echo_delay';
  voice?: { active: boolean; probability: number } | null;
  speech_probability?: { probability: number; active: boolean } | null;
  loudness?: {
    momentary_lufs: number; short_term_lufs: number; integrated_lufs: number; gain_db: number;
  } | null;
  analysis?: {
    peak_dbfs: number; rms_dbfs: number; spectral_centroid_hz: number; band_energy_db: number[];
  } | null;
  update?: { applied: boolean; message: string } | null;
  echo_delay?: { delay_ms: number } | null;
}

export interface ProcessedChunk {
  data: Buffer;
  metrics: ChunkMetrics;
  events: Event[];
  tail: boolean;
}

export interface StreamSummary {
  frames_in: number;
  frames_out: number;
  chunks: number;
  audio_seconds: number;
  wall_seconds: number;
  real_time_factor: number;
  processors: { name: string; seconds: number }[];
  integrated_lufs?: number | null;
  clipped_samples: number;
  nonfinite_samples: number;
  dropped_events: number;
  discarded_bytes: number;
}

/** One response of a Process stream; `response` names the member that is set. */
export type ProcessResponse =
  | { response: 'ready'; ready: StreamReady }
  | { response: 'chunk'; chunk: ProcessedChunk }
  | { response: 'checkpoint'; checkpoint: Checkpoint }
  | { response: 'summary'; summary: StreamSummary };

export interface ProcessorUpdate { index: number; spec: ProcessorSpec | string }

export interface ParameterInfo {
  name: string;
  type: string;
  unit: string;
  summary: string;
  required: boolean;
  default_value?: number | null;
  min: number;
  max: number;
  allowed_values: string[];
  runtime_updatable: boolean;
  [field: string]: unknown;
}

export interface ProcessorInfo {
  name: string;
  summary: string;
  parameters: ParameterInfo[];
  [field: string]: unknown;
}

export interface ListProcessorsResponse { processors: ProcessorInfo[] }

export interface FileFormat {
  container?: Container;
  encoding?: Encoding;
  sample_rate_hz?: number;
  channels?: number;
}

export interface ProcessFileResponse {
  file: Buffer;
  summary: StreamSummary;
  input: FileFormat;
}

/** PEM text, its bytes, or the path of a PEM file. */
export type Pem = string | Buffer;

export interface ConnectOptions {
  /** TLS, verifying the server with the system's roots. */
  tls?: boolean;
  /** Roots to verify the server with; turns TLS on. */
  ca?: Pem;
  /** Client certificate chain for mutual TLS (with `key`). */
  cert?: Pem;
  /** Private key of `cert`. */
  key?: Pem;
  /** Bearer token, sent as `authorization: Bearer <token>`. */
  token?: string;
  /** Deadline of every call, streams included, in milliseconds; 0: none. */
  timeoutMs?: number;
  /** grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

export interface CallOptions {
  token?: string;
  timeoutMs?: number;
}

export interface StreamOptions extends CallOptions {
  /** Unread responses kept before reading pauses (default 32). */
  queueLimit?: number;
  /**
   * Resume the stream on a new channel when its call ends UNAVAILABLE after a checkpoint
   * (default true; only a config with checkpoint_interval_ms > 0 gets checkpoints).
   */
  resume?: boolean;
}

/** Audio bytes as write() and pipeFrom() take them. */
export type Chunk = Buffer | Uint8Array | ArrayBufferView | ArrayBuffer;

export interface PipeOptions {
  /** Cut the source into chunks of this many bytes (the last may be shorter). */
  chunkBytes?: number;
  /** Cut the source into chunks of this many milliseconds of the input format. */
  chunkMs?: number;
  /** Send chunk i at start + i x its duration, like a live source. */
  realtime?: boolean;
  /** Half-close the stream when the source ends (default true). */
  end?: boolean;
}

/** What Session.collect() resolves to, and an AudioprocError's `result` after it. */
export interface StreamResult {
  ready: StreamReady | null;
  chunks: ProcessedChunk[];
  tail: ProcessedChunk | null;
  summary: StreamSummary | null;
  events: Event[];
  output: Buffer;
  chunksSent: number;
  /** Times the stream went on on a new call from a checkpoint. */
  resumes: number;
  protocolErrors: string[];
}

/** What a stream had answered when it failed (AudioprocError.result). */
export interface PartialResult extends Partial<Omit<StreamResult, 'tail'>> {
  ready: StreamReady | null;
  chunksSent: number;
  chunksAnswered?: number;
  tail?: boolean | ProcessedChunk | null;
  summary: StreamSummary | null;
  protocolErrors: string[];
}

/** A call that ended with a non-OK gRPC status. */
export class AudioprocError extends Error {
  /** The status code (a grpc.status value). */
  readonly code: status;
  /** Its name: 'INVALID_ARGUMENT', 'UNAVAILABLE', ... */
  readonly codeName: string;
  /** The server's message. */
  details: string;
  metadata: Metadata | null;
  /** What a stream had answered before it failed; null for a unary call. */
  result: PartialResult | null;
}

/** A chain or config that does not parse; the message names the position and parameter. */
export class ChainError extends Error {}

/**
 * One Process stream: write chunks and updates, iterate the responses. With
 * checkpoint_interval_ms > 0 it keeps the last checkpoint and the requests sent after it, and
 * when the call ends UNAVAILABLE goes on on a new call from the checkpoint: one stream for
 * the caller, each chunk answered once, in order (`ready` is the first call's, `summary` the
 * last's; `resumes` counts the resumes).
 */
export class Session implements AsyncIterable<ProcessResponse> {
  /** Resolves to the StreamReady; rejects with AudioprocError if the stream fails first. */
  readonly ready: Promise<StreamReady>;
  /**
   * Resolves to the StreamSummary once it has been read; rejects with AudioprocError.
   * Awaited on a session nobody iterates, it reads (and drops) the remaining responses.
   */
  readonly summary: PromiseLike<StreamSummary> & {
    catch<T = never>(onRejected?: (reason: unknown) => T | PromiseLike<T>):
      Promise<StreamSummary | T>;
    finally(onFinally?: () => void): Promise<StreamSummary>;
  };
  /** True once the status has arrived and every response has been read. */
  readonly done: boolean;
  readonly readyMessage: StreamReady | null;
  readonly summaryMessage: StreamSummary | null;
  readonly chunksSent: number;
  readonly chunksAnswered: number;
  /** Times the stream went on on a new call from a checkpoint. */
  readonly resumes: number;
  /** Times a write waited for grpc-js's 'drain'. */
  readonly writesWaited: number;
  readonly protocolErrors: string[];
  /** Milliseconds from writing the last answered chunk to its answer. */
  readonly lastChunkLatencyMs: number | null;

  /**
   * Sends one chunk (sequence: one more than the last, unless given). Resolves once grpc-js
   * can take more; rejects with AudioprocError if the stream is over.
   */
  write(chunk: Chunk | { data: Chunk; sequence?: number }): Promise<void>;
  /**
   * Sends a ChainUpdate: (index, spec), a whole chain (text or specs: the positions that set
   * parameters), {index, spec}, a list of them, or {updates}. The next chunk response carries
   * an `update` event saying whether it was applied.
   */
  update(index: number, spec: string | ProcessorSpec): Promise<void>;
  update(update: string | ProcessorSpec[] | ProcessorUpdate | ProcessorUpdate[] |
                 { updates: ProcessorUpdate[] }): Promise<void>;
  /** Half-closes the stream after the writes before it: the end of the input. */
  end(): Promise<void>;
  /** Cancels the call. */
  cancel(): void;
  /**
   * Writes every chunk of `source`, waiting for each write, then ends the stream. Resolves to
   * the number of chunks sent (also when the stream ended first); rejects if the source fails.
   */
  pipeFrom(source: Chunk | Iterable<Chunk> | AsyncIterable<Chunk> | Readable,
           options?: PipeOptions): Promise<number>;
  /** Reads every remaining response and keeps them (the whole output in memory). */
  collect(): Promise<StreamResult>;
  [Symbol.asyncIterator](): AsyncIterator<ProcessResponse>;
}

export class Client {
  constructor(address: string, options?: ConnectOptions);
  readonly address: string;
  /** Opens a Process stream and sends the config. Throws ChainError for a bad chain. */
  stream(config: StreamConfigInput, options?: StreamOptions): Session;
  /** One ProcessFile call: a whole encoded file (Buffer or path) in, a file out. */
  processFile(file: Buffer | string, options?: CallOptions & {
    chain?: string | ProcessorSpec[];
    output?: FileFormat;
    dither?: 'DITHER_NONE' | 'DITHER_TPDF';
  }): Promise<ProcessFileResponse>;
  listProcessors(options?: CallOptions): Promise<ListProcessorsResponse>;
  /** Closes the channel. */
  close(): void;
  /** The grpc-js client underneath. */
  readonly grpcClient: GrpcClient & { [method: string]: any };
}

/** A Client of the server at `address` (host:port). */
export function connect(address: string, options?: ConnectOptions): Client;

/** Interleaved PCM and its format. */
export interface Audio {
  data: Buffer;
  format: Required<AudioFormat>;
}

/** A WAV file's bytes: 16-bit PCM as PCM_S16LE, every other PCM or float as PCM_F32LE. */
export function decodeWav(bytes: Buffer, name?: string): Audio;
export function readWav(file: string): Audio;
/** WAV bytes as libsndfile (and the C++ client) writes them. */
export function encodeWav(audio: { data: Buffer; format: AudioFormat },
                          options?: { timestamp?: number }): Buffer;
export function writeWav(file: string, audio: { data: Buffer; format: AudioFormat },
                         options?: { timestamp?: number }): void;

/** 'ENCODING:RATE:CHANNELS' ('s16le:16000:1') as an AudioFormat. */
export function parseFormat(text: string): Required<AudioFormat>;
/** Bytes per interleaved frame; 0 for an incomplete format. */
export function bytesPerFrame(format: AudioFormat): number;
/** A chain, one-line or proto3 JSON. Throws ChainError. */
export function parseChain(text: string): ProcessorSpec[];
/** A StreamConfig from chain text or a JSON StreamConfig. Throws ChainError. */
export function parseStreamConfig(text: string): StreamConfig;
/** The one-line form of a chain. */
export function formatChain(chain: ProcessorSpec[]): string;
/** A message as proto3 JSON; `type` is a full name ('audioproc.v1.StreamSummary'). */
export function toProto3Json(type: string, message: object): Record<string, unknown>;

/** The bundled proto's path. */
export const PROTO_PATH: string;
/** grpc-js's status codes. */
export const Status: typeof status;
