// RNNoise (xiph/rnnoise, BSD-3-Clause) as WASM from npm's @echogarden/rnnoise-wasm: the
// denoiser peer of `make bench-dsp` (issue 13), driven by wasm_peers.mjs.
//
// RNNoise works on 10 ms frames of 480 samples at 48 kHz, as floats in the int16 range. Each
// rnnoise_process_frame call returns the denoised audio of the *previous* input frame and the
// voice probability of the same analysis window: the peer drops the delay, flushes the tail with
// zeros and writes output that is time-aligned to the input, sample for sample and frame for
// frame.
import createRNNoiseModule from '@echogarden/rnnoise-wasm';

export const kFrame = 480;

// RNNoise's algorithmic delay at 48 kHz, in samples: one frame (the analysis window is 960
// samples, synthesis is overlap-add, so a call completes the output of the frame before it).
// Measured, not assumed: 4 s of a 150 Hz voice (3 Hz vibrato, 60 harmonics of equal amplitude,
// 250 ms on and off) in white noise at -60 and -40 dBFS went through rnnoise_process_frame, and
// the cross-correlation of the output with the clean voice, searched over lags 470..490, peaked
// at 480 (neighbours 0.82..0.87 of the peak). A 1/h spectrum (10 harmonics) gives a flat peak
// (478..480 within 0.2%) that the per-band gains and the pitch filter tip to 478: measure with a
// broadband signal. tests/bench/wasm_peers_test.mjs measures it again through wasm_peers.mjs:
// lag 0 after the correction, over +-960 samples.
export const kDelaySamples = 480;
const kDelayFrames = kDelaySamples / kFrame;

// Loads the module and makes one denoiser state; the WASM heap buffers of one frame in and out
// are allocated here, once. Asynchronous because WebAssembly compiles asynchronously.
export async function createRnnoisePeer() {
  const m = await createRNNoiseModule();
  if (m._rnnoise_get_frame_size() !== kFrame) {
    throw new Error(`RNNoise frame size ${m._rnnoise_get_frame_size()}, expected ${kFrame}`);
  }
  const state = m._rnnoise_create(0);  // 0: the built-in model
  const inPtr = m._malloc(kFrame * 4);
  const outPtr = m._malloc(kFrame * 4);
  if (!state || !inPtr || !outPtr) throw new Error('RNNoise: out of WASM memory');

  return {
    // Denoises `input` (48 kHz float samples in [-1, 1]) from a fresh state. Returns the output
    // audio (input.length samples, aligned to the input) and one voice probability per 10 ms
    // input frame (ceil(input.length / 480); a last partial frame is padded with zeros).
    // Allocates the two result arrays only; the per-frame path allocates nothing.
    process(input) {
      m._rnnoise_init(state, 0);
      const n = input.length;
      const frames = Math.ceil(n / kFrame);
      const out = new Float32Array(n);
      const vad = new Float32Array(frames);
      // The WASM memory may have grown (and its views been replaced) since the last job.
      const heap = m.HEAPF32;
      const inBase = inPtr >> 2;
      const outBase = outPtr >> 2;
      // One call per input frame plus kDelayFrames calls of zeros that flush the tail.
      const calls = frames + kDelayFrames;
      for (let c = 0; c < calls; c++) {
        const start = c * kFrame;
        for (let k = 0; k < kFrame; k++) {
          const i = start + k;
          heap[inBase + k] = i < n ? input[i] * 32768 : 0;
        }
        const p = m._rnnoise_process_frame(state, outPtr, inPtr);
        const f = c - kDelayFrames;
        if (f < 0) continue;
        vad[f] = p;
        const outStart = start - kDelaySamples;
        const count = Math.min(kFrame, n - outStart);
        for (let k = 0; k < count; k++) out[outStart + k] = heap[outBase + k] / 32768;
      }
      return { out, vad };
    },
  };
}
