// libfvad (WebRTC's voice activity detector, BSD-3-Clause) as WASM from npm's
// @echogarden/fvad-wasm: the VAD peer of `make bench-dsp` (issue 13), driven by wasm_peers.mjs.
// 48 kHz, 10 ms frames of 480 int16 samples; one 0/1 decision per frame, no delay to correct
// (each fvad_process call decides on the frame it is given).
import createFvadModule from '@echogarden/fvad-wasm';

export const kFrame = 480;
const kSampleRateHz = 48000;

// Loads the module and makes one detector in `mode` (0 quality .. 3 very aggressive); the WASM
// heap buffer of one frame is allocated here, once.
export async function createFvadPeer(mode) {
  const m = await createFvadModule();
  const inst = m._fvad_new();
  const inPtr = m._malloc(kFrame * 2);
  if (!inst || !inPtr) throw new Error('fvad: out of WASM memory');

  // fvad_reset forgets the mode and the rate; both are set again for every job.
  const configure = () => {
    m._fvad_reset(inst);
    if (m._fvad_set_mode(inst, mode) !== 0) throw new Error(`fvad: invalid mode ${mode}`);
    if (m._fvad_set_sample_rate(inst, kSampleRateHz) !== 0) throw new Error('fvad: 48 kHz refused');
  };
  configure();

  return {
    // One 0/1 per 10 ms frame of `input` (48 kHz floats in [-1, 1]), from a fresh detector; a
    // last partial frame is padded with zeros. Allocates the result only.
    process(input) {
      configure();
      const n = input.length;
      const frames = Math.ceil(n / kFrame);
      const vad = new Uint8Array(frames);
      const heap = m.HEAP16;
      const base = inPtr >> 1;
      for (let f = 0; f < frames; f++) {
        const start = f * kFrame;
        for (let k = 0; k < kFrame; k++) {
          const i = start + k;
          const s = i < n ? Math.round(input[i] * 32768) : 0;
          heap[base + k] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
        }
        const r = m._fvad_process(inst, inPtr, kFrame);
        if (r < 0) throw new Error(`fvad_process failed at frame ${f}`);
        vad[f] = r;
      }
      return { vad };
    },
  };
}
