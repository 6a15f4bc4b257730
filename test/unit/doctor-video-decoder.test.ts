import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkVideoDecoder } from '../../src/doctor/media-checks.js';
import { packagedFfmpeg } from '../../src/media/ffmpeg.js';

/** doctor's `video decoder` line: which ffmpeg, from where, and that it runs; what to do when none does. */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comfywire-doctor-ffmpeg-'));
  mkdirSync(join(dir, 'empty'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const none = () => undefined;
const posix = process.platform === 'win32' ? it.skip : it;

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

it('off: ok, and says what videos get without it', async () => {
  expect(await checkVideoDecoder('off')).toEqual({
    name: 'video decoder',
    status: 'ok',
    detail: 'off (COMFYWIRE_FFMPEG=off): videos are listed and linked, without a poster frame or duration',
  });
});

it('a configured path that is not executable fails, with the fix', async () => {
  const c = await checkVideoDecoder(join(dir, 'missing-ffmpeg'), '', none);
  expect(c.status).toBe('fail');
  expect(c.detail).toContain('missing-ffmpeg is not an executable file');
  expect(c.fix).toMatch(/Point COMFYWIRE_FFMPEG at an ffmpeg binary/);
});

it('none on PATH and none packaged: a warning that says how to get one', async () => {
  const c = await checkVideoDecoder(undefined, join(dir, 'empty'), none);
  expect(c.status).toBe('warn');
  expect(c.detail).toMatch(/^no ffmpeg: videos are listed and linked/);
  expect(c.fix).toMatch(/apt install ffmpeg.*@ffmpeg-installer\/ffmpeg.*COMFYWIRE_FFMPEG/);
});

posix('one that runs: its version, its path and where it came from', async () => {
  const fake = script('good-ffmpeg', "echo 'ffmpeg version 7.1-test Copyright (c) 2000-2024'");
  expect(await checkVideoDecoder(undefined, join(dir, 'empty'), () => fake)).toEqual({
    name: 'video decoder',
    status: 'ok',
    detail: `ffmpeg 7.1-test (${fake}, from @ffmpeg-installer/ffmpeg): poster frames and durations of videos`,
  });
});

posix('one that does not run (exits with an error): a warning with its words, not a pass', async () => {
  const broken = script('broken-ffmpeg', "echo 'error while loading shared libraries' >&2; exit 127");
  const c = await checkVideoDecoder(broken, '', none);
  expect(c.status).toBe('warn');
  expect(c.detail).toContain(`ffmpeg at ${broken}, from COMFYWIRE_FFMPEG does not run: it exited 127 without a version: error while loading shared libraries`);
});

const packaged = packagedFfmpeg();
(packaged ? it : it.skip)('the packaged ffmpeg (the optional dependency, as npm ci installs it) runs', async () => {
  const c = await checkVideoDecoder(undefined, join(dir, 'empty'));
  expect(c.status).toBe('ok');
  expect(c.detail).toMatch(/^ffmpeg \S+ \(.*ffmpeg, from @ffmpeg-installer\/ffmpeg\)/);
});
