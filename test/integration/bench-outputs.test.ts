import { expect, test } from '@jest/globals';
import { benchOutputPreviews } from '../../bench/output-previews.js';
import { packagedFfmpeg } from '../../src/media/ffmpeg.js';

/**
 * `npm run bench`'s outputs section with one run: a figure per kind, each finite (the section
 * throws when a preview comes back empty). No speed is asserted: the figures go to the table.
 */

test('the outputs section: PNG, animated WebP, MP4 (with the packaged ffmpeg) and WAV previews, each timed', async () => {
  const figures = await benchOutputPreviews({ runs: 1 });
  const names = figures.map((f) => f.name);
  expect(names[0]).toMatch(/^probe \+ preview: 512x512 PNG/);
  expect(names.some((n) => /animated WebP \(contact sheet\)/.test(n))).toBe(true);
  expect(names.some((n) => /WAV \(audio content\)/.test(n))).toBe(true);
  if (packagedFfmpeg()) expect(names.some((n) => /H\.264 MP4 \(ffmpeg first frame\)/.test(n))).toBe(true);
  for (const f of figures.filter((f) => !/no ffmpeg here/.test(f.name))) {
    expect(Number.isFinite(f.value)).toBe(true);
    expect(f.value).toBeGreaterThan(0);
  }
}, 60_000);
