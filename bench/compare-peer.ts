import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The npm peer of the start-up comparison, `comfyui-mcp`, installed by the benchmark into a
 * temporary folder (never into this project) and kept there between runs, keyed by version.
 * Anything that stops the install (no registry, a failed build, a hang) makes it a skip with a
 * note that says why; the rest of the comparison still runs.
 *
 * How the peer is started (from its package): its bin `comfyui-mcp` -> dist/index.js, stdio MCP
 * by default; COMFYUI_URL points it at a ComfyUI (a loopback one is "local mode"); it keeps its
 * settings and workflows under ~/.comfyui-mcp, so the benchmark gives it a HOME of its own.
 */

export const PEER_NAME = 'comfyui-mcp';
export const PEER_VERSION = '0.52.203';
/** The first install here took 45 s on two busy cores; a registry that does not answer must not hold the bench longer. */
export const PEER_INSTALL_TIMEOUT_MS = 180_000;

export type PeerInstall = { ok: true; entry: string; cached: boolean } | { ok: false; note: string };

/** The part of a child process the installer uses (a fake one in unit tests). */
export interface InstallProcess {
  stderr: NodeJS.ReadableStream | null;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  kill(signal?: NodeJS.Signals): boolean;
}

export interface PeerOptions {
  /** Folder that holds one install per version; default <os tmpdir>/comfywire-bench-peer. */
  cacheRoot?: string;
  timeoutMs?: number;
  /** Starts `npm <args>`; a test passes a fake. */
  runNpm?: (args: string[]) => InstallProcess;
  log?: (line: string) => void;
}

const SPEC = `${PEER_NAME}@${PEER_VERSION}`;

export function peerFolder(cacheRoot = join(tmpdir(), 'comfywire-bench-peer')): string {
  return join(cacheRoot, SPEC);
}

/** The file its bin runs, read from its package.json; undefined when the folder holds no complete install. */
export function peerEntry(folder: string): string | undefined {
  const pkgDir = join(folder, 'node_modules', PEER_NAME);
  try {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version?: string; bin?: string | Record<string, string> };
    if (pkg.version !== PEER_VERSION) return undefined;
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.[PEER_NAME];
    const entry = bin ? join(pkgDir, bin) : undefined;
    return entry && existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

const defaultRunNpm = (args: string[]): InstallProcess => spawn('npm', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * The peer's entry file, installing it first when the cache has none. The install goes into a
 * side folder renamed into place only once npm succeeded, so an interrupted one is never taken
 * for a cached one.
 */
export async function ensurePeer(options: PeerOptions = {}): Promise<PeerInstall> {
  const folder = peerFolder(options.cacheRoot);
  const cached = peerEntry(folder);
  if (cached) return { ok: true, entry: cached, cached: true };
  const partial = `${folder}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  options.log?.(`installing ${SPEC} into ${folder} (once: later runs reuse it)...`);
  const args = ['install', '--prefix', partial, SPEC, '--no-audit', '--no-fund', '--loglevel=error'];
  const failure = await runInstall((options.runNpm ?? defaultRunNpm)(args), options.timeoutMs ?? PEER_INSTALL_TIMEOUT_MS);
  if (failure) {
    await rm(partial, { recursive: true, force: true });
    return { ok: false, note: `${SPEC} not installed (${failure}); its figures are skipped` };
  }
  await rm(folder, { recursive: true, force: true });
  await rename(partial, folder);
  const entry = peerEntry(folder);
  return entry ? { ok: true, entry, cached: false } : { ok: false, note: `${SPEC} installed without its bin file; its figures are skipped` };
}

/** Waits for npm; resolves with what went wrong, or undefined when it succeeded. */
function runInstall(child: InstallProcess, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const finish = (failure: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(failure);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(`npm install did not finish within ${Math.round(timeoutMs / 1000)} s: is the registry reachable?`);
    }, timeoutMs);
    child.stderr?.on('data', (d: Buffer | string) => {
      // Only the end matters (npm's error summary); keep the buffer bounded.
      stderr = (stderr + String(d)).slice(-4000);
    });
    child.on('error', (err) => finish(`npm could not be started: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code === 0) return finish(undefined);
      const reason = npmReason(stderr);
      finish(`npm install exited with ${code ?? signal}${reason ? `: ${reason}` : ''}`);
    });
  });
}

/**
 * What npm said went wrong, in one bounded line: its error code and its first line of substance
 * (the code/syscall/errno lines, stack frames, the advice about proxies and the "complete log"
 * pointer say nothing about this failure).
 */
export function npmReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^npm (?:error|ERR!)/, '').trim())
    .filter(Boolean);
  const code = lines.map((l) => /^code (\S+)$/.exec(l)?.[1]).find(Boolean);
  const said = lines.find((l) => !/^(code|syscall|errno) \S+$|^at |^[{}]|^\w+: '|complete log of this run|behind a proxy/.test(l)) ?? '';
  const text = [code, said].filter(Boolean).join(': ');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
