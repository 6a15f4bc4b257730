import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where running comfywire processes publish their local event feed. ComfyUI sends a prompt's
 * execution events only to the socket that submitted it, so `comfywire tail --attach` reads them
 * from the process that did. Each process writes a small registry file naming its socket address
 * (a Unix socket, or a named pipe on Windows) so attaching works the same on every platform.
 */
export interface FeedRegistration {
  pid: number;
  address: string;
  comfyUrl: string;
  clientId: string;
  startedAt: number;
  command: string;
}

export function feedDir(): string {
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(tmpdir(), `comfywire-${uid}`);
}

export function feedAddress(pid = process.pid): string {
  return process.platform === 'win32' ? `\\\\.\\pipe\\comfywire-feed-${pid}` : join(feedDir(), `feed-${pid}.sock`);
}

/** The per-user folder, private to its owner (the feed carries prompts and file names). */
export function ensureFeedDir(): void {
  mkdirSync(feedDir(), { recursive: true, mode: 0o700 });
}

export function register(reg: FeedRegistration): string {
  ensureFeedDir();
  const file = join(feedDir(), `feed-${reg.pid}.json`);
  writeFileSync(file, JSON.stringify(reg), { mode: 0o600 });
  return file;
}

export function unregister(pid = process.pid): void {
  rmSync(join(feedDir(), `feed-${pid}.json`), { force: true });
  if (process.platform !== 'win32') rmSync(feedAddress(pid), { force: true });
}

/** Registrations of processes that are still alive; stale files of dead ones are removed. */
export function listFeeds(): FeedRegistration[] {
  let names: string[];
  try {
    names = readdirSync(feedDir());
  } catch {
    return [];
  }
  const feeds: FeedRegistration[] = [];
  for (const name of names.filter((n) => /^feed-\d+\.json$/.test(n))) {
    try {
      const reg = JSON.parse(readFileSync(join(feedDir(), name), 'utf8')) as FeedRegistration;
      if (isAlive(reg.pid)) feeds.push(reg);
      else unregister(reg.pid);
    } catch {
      rmSync(join(feedDir(), name), { force: true });
    }
  }
  return feeds.sort((a, b) => b.startedAt - a.startedAt);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
