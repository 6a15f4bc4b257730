import { createHash } from 'node:crypto';
import { encodeFlac } from '../flac.js';
import type { Audio, Latent, NodeImpl } from './types.js';

/**
 * comfy_extras/nodes_audio.py: an audio latent, its "decode" (a tone whose pitch follows the
 * prompt and seed, so runs differ as real ones do) and SaveAudio, which writes FLAC.
 */

/** Stable Audio's VAE: 44.1 kHz stereo, 2048 samples per latent frame. */
const SAMPLE_RATE = 44100;
const SAMPLES_PER_LATENT = 2048;
const CHANNELS = 2;

export const EmptyLatentAudio: NodeImpl = {
  async run(inputs) {
    // ComfyUI: length = round((seconds * 44100 / 2048) / 2) * 2 latent frames.
    const length = Math.round((Number(inputs.seconds) * SAMPLE_RATE) / SAMPLES_PER_LATENT / 2) * 2;
    const latent: Latent = { width: 0, height: 0, batch: Number(inputs.batch_size), audio: { samples: length * SAMPLES_PER_LATENT } };
    return { outputs: [latent] };
  },
};

export const VAEDecodeAudio: NodeImpl = {
  async run(inputs) {
    const latent = inputs.samples as Latent;
    const samples = latent.audio?.samples ?? 0;
    const waveform: Float32Array[][] = [];
    for (let b = 0; b < latent.batch; b++) {
      const s = latent.sampled;
      const key = s ? `${s.positive}\u0000${s.seed}\u0000${b}` : `empty\u0000${b}`;
      waveform.push(tone(samples, key));
    }
    const audio: Audio = { sampleRate: SAMPLE_RATE, waveform };
    return { outputs: [audio] };
  },
};

export const SaveAudio: NodeImpl = {
  async run(inputs, ctx) {
    const audio = inputs.audio as Audio;
    const files = audio.waveform.map((channels) => encodeFlac(channels, audio.sampleRate, ctx.pngText));
    const saved = await ctx.files.saveFiles(files, String(inputs.filename_prefix), 'flac');
    return { outputs: [], ui: { audio: saved } };
  },
};

/** A sine between 220 and 880 Hz, 10 ms fades so it starts and ends silent. */
function tone(samples: number, key: string): Float32Array[] {
  const h = createHash('sha256').update(key).digest();
  const frequency = 220 + (h.readUInt16BE(0) % 661);
  const fade = Math.round(SAMPLE_RATE / 100);
  const channels = Array.from({ length: CHANNELS }, () => new Float32Array(samples));
  for (let i = 0; i < samples; i++) {
    const envelope = Math.min(1, i / fade, (samples - 1 - i) / fade);
    const v = 0.5 * envelope * Math.sin((2 * Math.PI * frequency * i) / SAMPLE_RATE);
    for (const c of channels) c[i] = v;
  }
  return channels;
}
