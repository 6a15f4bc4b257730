import { expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlacHeader } from '../../src/media/flac.js';
import { probeMedia } from '../../src/media/probe.js';
import { encodeFlac } from '../../src/simulator/flac.js';

/** A FLAC's duration from its STREAMINFO (ComfyUI's SaveAudio writes FLAC), without a decoder. */

it('reads rate, channels, bits and duration from STREAMINFO; refuses what is not FLAC', () => {
  const samples = 22_050 * 3 + 7;
  const flac = encodeFlac([new Float32Array(samples), new Float32Array(samples)], 22_050);
  const info = parseFlacHeader(flac.subarray(0, 42));
  expect(info).toEqual({ sampleRate: 22_050, channels: 2, bitsPerSample: 16, totalSamples: samples, durationS: samples / 22_050 });
  expect(parseFlacHeader(Buffer.from('RIFF0000WAVEfmt '.padEnd(42, ' ')))).toBeUndefined();
  expect(parseFlacHeader(flac.subarray(0, 20))).toBeUndefined();
  // A stream whose encoder did not know its length: no duration rather than 0 s.
  const unknown = Buffer.from(flac.subarray(0, 42));
  unknown.writeUInt32BE(0, 22);
  unknown[21] = unknown[21]! & 0xf0;
  expect(parseFlacHeader(unknown)?.durationS).toBeUndefined();
});

it('a probed FLAC is audio with its duration, with no ffmpeg', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-flac-'));
  const path = join(dir, 'a_00001_.flac');
  writeFileSync(path, encodeFlac([new Float32Array(44_100 / 2)], 44_100));
  const probed = await probeMedia(path, { filename: 'a_00001_.flac', uiKey: 'audio' }, { ffmpeg: undefined });
  expect(probed).toMatchObject({ kind: 'audio', mime: 'audio/flac', duration_s: 0.5 });
});
