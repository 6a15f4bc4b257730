import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './engine-harness.js';
import { deadline, whenTrue } from './wait.js';

/** The built, bundled CLI: the package's bin (npm test builds before running jest). */
export const CLI = join(REPO_ROOT, 'dist', 'comfywire.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Environment for a child: inherited, minus anything that would point it at a real ComfyUI or a
 * real database, and with the call log off (a test never writes into the user's state folder;
 * tests of the log pass COMFYWIRE_CALL_LOG or DATABASE_URL themselves).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('COMFYUI_') || k.startsWith('COMFYWIRE_') || k === 'DATABASE_URL') delete env[k];
  return { ...env, COMFYWIRE_LOG_LEVEL: 'warn', COMFYWIRE_CALL_LOG: 'off', ...extra };
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO_ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface StartedCli {
  child: ChildProcess;
  match: RegExpMatchArray;
  output: () => { stdout: string; stderr: string };
  /** Resolves once the output so far matches; rejects after `ms`, or at once if the process exits first. */
  waitForOutput(stream: 'stdout' | 'stderr', pattern: RegExp, ms?: number): Promise<void>;
}

/**
 * Start a long-running CLI command and wait until its stderr shows `ready`: bounded, and the
 * child is killed when it never does (nothing keeps running after a failed test).
 */
export function startCli(
  args: string[],
  ready: RegExp,
  options: { cwd?: string; env?: Record<string, string>; readyWithinMs?: number } = {},
): Promise<StartedCli> {
  const readyWithinMs = options.readyWithinMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO_ROOT, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const output = () => ({ stdout, stderr });
    const waitForOutput = (stream: 'stdout' | 'stderr', pattern: RegExp, ms = 10_000) =>
      whenTrue(child[stream]!, 'data', () => pattern.test(output()[stream]), ms, `${args.join(' ')}: ${stream} matching ${pattern}`, {
        emitter: child,
        event: 'close',
      }).catch((error: Error) => {
        throw new Error(`${error.message}\n--- stdout:\n${stdout}\n--- stderr:\n${stderr}`);
      });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: no ${ready} on stderr within ${readyWithinMs} ms: ${stderr}`));
    }, readyWithinMs);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = stderr.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, output, waitForOutput });
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready: ${stderr}`));
    });
  });
}

/** The child's exit code; rejects when it has not exited within `ms` (it is then killed). */
export function exitOf(child: ChildProcess, ms = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return deadline(exited, ms, `pid ${child.pid} exit`).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
}
