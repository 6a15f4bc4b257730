import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/**
 * The optional video decoder: an `ffmpeg` binary, from COMFYWIRE_FFMPEG (a path, or `off`), else
 * the first `ffmpeg` on PATH (the user's own, usually newer), else the one the optional npm
 * dependency @ffmpeg-installer/ffmpeg ships inside its platform package (ffmpeg 4.1, static: it
 * decodes H.264, H.265, VP8/9 and AV1, all a ComfyUI video node writes). An install may leave the
 * optional dependency out (`--omit=optional`, a platform it has no binary for); then videos are
 * listed and linked, with a note that says how to get a poster frame.
 */

export const NO_DECODER_NOTE = 'no video decoder: install ffmpeg or set COMFYWIRE_FFMPEG for a poster frame';

/** One ffmpeg run (a poster frame, a probe) may take this long; then it is killed. */
export const FFMPEG_TIMEOUT_MS = 10_000;
/** A poster frame is a PNG of one frame: far below this; more means something is wrong. */
const MAX_STDOUT_BYTES = 32 * 1024 * 1024;
const MAX_STDERR_BYTES = 64 * 1024;

export type FfmpegSource = 'COMFYWIRE_FFMPEG' | 'PATH' | '@ffmpeg-installer/ffmpeg';

export interface FfmpegLocation {
  path: string;
  from: FfmpegSource;
}

const found = new Map<string, Promise<FfmpegLocation | undefined>>();

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/**
 * The binary of the optional dependency, or undefined when it is not installed. Its index throws
 * (a string) when the platform package is missing; resolved from this file, so from the
 * installed comfywire's own node_modules.
 */
export function packagedFfmpeg(): string | undefined {
  try {
    const mod = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path?: unknown };
    return typeof mod.path === 'string' ? mod.path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the ffmpeg to use is, and why that one: the configured path (if it is executable), none
 * when configured `off`, else the first `ffmpeg` on PATH, else the packaged one. Looked up once
 * per setting.
 */
export function locateFfmpeg(
  setting: string | undefined,
  pathEnv = process.env.PATH ?? '',
  packaged: () => string | undefined = packagedFfmpeg,
): Promise<FfmpegLocation | undefined> {
  // Cached only with the real packaged lookup (tests inject another).
  const cacheable = packaged === packagedFfmpeg;
  const key = `${setting ?? ''}\0${pathEnv}`;
  let hit = cacheable ? found.get(key) : undefined;
  if (!hit) {
    hit = (async (): Promise<FfmpegLocation | undefined> => {
      if (setting === 'off') return undefined;
      if (setting) return (await executable(setting)) ? { path: setting, from: 'COMFYWIRE_FFMPEG' } : undefined;
      const names = process.platform === 'win32' ? ['ffmpeg.exe'] : ['ffmpeg'];
      for (const dir of pathEnv.split(delimiter).filter(Boolean)) {
        for (const name of names) if (await executable(join(dir, name))) return { path: join(dir, name), from: 'PATH' };
      }
      const bundled = packaged();
      return bundled && (await executable(bundled)) ? { path: bundled, from: '@ffmpeg-installer/ffmpeg' } : undefined;
    })();
    if (cacheable) found.set(key, hit);
  }
  return hit;
}

/** The path of the ffmpeg to use (locateFfmpeg), or undefined when there is none. */
export async function findFfmpeg(
  setting: string | undefined,
  pathEnv = process.env.PATH ?? '',
  packaged: () => string | undefined = packagedFfmpeg,
): Promise<string | undefined> {
  return (await locateFfmpeg(setting, pathEnv, packaged))?.path;
}

export interface FfmpegRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** ffmpeg ran past its deadline and was killed. */
export class FfmpegTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`ffmpeg gave no answer within ${timeoutMs / 1000} s`);
    this.name = 'FfmpegTimeoutError';
  }
}

/**
 * Runs ffmpeg with a deadline on the global timers (tests move them); never rejects on a non-zero
 * exit. `input` is written to its stdin with back-pressure (raw frames for `-i -`); without it
 * stdin is closed.
 */
export function runFfmpeg(bin: string, args: readonly string[], timeoutMs = FFMPEG_TIMEOUT_MS, input?: readonly Uint8Array[]): Promise<FfmpegRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-hide_banner', '-nostdin', ...args], { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      failure = new FfmpegTimeoutError(timeoutMs);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_STDOUT_BYTES) {
        failure ??= new Error('ffmpeg wrote more than a poster frame');
        child.kill('SIGKILL');
      } else out.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (err.length < MAX_STDERR_BYTES) err += chunk.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    if (input && child.stdin) void feed(child.stdin, input);
  });
}

/** Writes the chunks, waiting on 'drain'; stops when ffmpeg closes its end (it exited: its stderr says why). */
async function feed(stdin: NodeJS.WritableStream & { destroyed: boolean }, chunks: readonly Uint8Array[]): Promise<void> {
  stdin.on('error', () => undefined);
  for (const chunk of chunks) {
    if (stdin.destroyed) return;
    if (!stdin.write(chunk)) {
      await new Promise<void>((resolve) => {
        stdin.once('drain', resolve);
        stdin.once('close', resolve);
      });
    }
  }
  stdin.end();
}

/** The first frame of a video as PNG bytes, or undefined when ffmpeg could not decode one. */
export async function videoPoster(bin: string, file: string, timeoutMs?: number): Promise<Buffer | undefined> {
  const run = await runFfmpeg(bin, ['-loglevel', 'error', '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'], timeoutMs);
  return run.code === 0 && run.stdout.length > 0 ? run.stdout : undefined;
}

export interface StreamFacts {
  durationS?: number;
  width?: number;
  height?: number;
}

/**
 * Duration and picture size from what `ffmpeg -i` prints about its input (it exits 1: no output
 * was named); ffprobe is not needed, and not always installed next to ffmpeg.
 */
export async function probeWithFfmpeg(bin: string, file: string, timeoutMs?: number): Promise<StreamFacts> {
  const run = await runFfmpeg(bin, ['-i', file], timeoutMs);
  return parseFfmpegInfo(run.stderr);
}

export function parseFfmpegInfo(text: string): StreamFacts {
  const facts: StreamFacts = {};
  const d = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(text);
  if (d) facts.durationS = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
  const v = /Stream #[^\n]*Video:[^\n]*?\b(\d{2,5})x(\d{2,5})\b/.exec(text);
  if (v) {
    facts.width = Number(v[1]);
    facts.height = Number(v[2]);
  }
  return facts;
}
