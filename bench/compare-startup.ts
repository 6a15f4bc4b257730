import { spawn } from 'node:child_process';
import { median, type ComparisonRow } from './compare-stats.js';

/**
 * Start-up side by side: the whole life of a stdio MCP server as a client sees it when it only
 * asks what tools there are: spawn -> initialize answered -> initialized + tools/list -> the
 * answer -> stdin closed -> the process has exited. Both servers get the same environment (a HOME
 * of their own, the same ComfyUI URL), and the runs alternate so a busy moment of the machine
 * falls on both.
 */

export interface ServerCommand {
  label: string;
  command: string;
  args: string[];
  /** Added to the shared environment (PATH, HOME). */
  env?: Record<string, string>;
}

export interface StartAndClose {
  /** spawn -> the tools/list answer read. */
  toolsListMs: number;
  /** spawn -> the process exited after its stdin was closed. */
  exitMs: number;
  tools: number;
  /** Size of the tools/list answer, what a client reads and keeps. */
  answerBytes: number;
}

export interface StartupEnv {
  home: string;
  comfyUrl: string;
}

const INITIALIZE = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'comfywire-bench', version: '1' } },
};
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const TOOLS_LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

/** One start, tools/list and close; rejects (killing the process) past `timeoutMs` or on an early exit. */
export function timeStartAndClose(server: ServerCommand, env: StartupEnv, timeoutMs = 60_000): Promise<StartAndClose> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(server.command, server.args, {
      cwd: env.home, // no project .env is picked up from the bench's folder
      env: { PATH: process.env.PATH ?? '', HOME: env.home, COMFYUI_URL: env.comfyUrl, ...server.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let answer: Omit<StartAndClose, 'exitMs'> | undefined;
    let buffered = '';
    let stderr = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${server.label}: ${why}${stderr.trim() ? `; stderr: ${stderr.trim().slice(-300)}` : ''}`));
    };
    const timer = setTimeout(() => fail(answer ? `still running ${timeoutMs} ms after its stdin was closed` : `no tools/list answer within ${timeoutMs} ms`), timeoutMs);
    const send = (...messages: object[]): void => {
      child.stdin.write(messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
    };
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.stdin.on('error', () => undefined); // a server that exits first: its exit is what is reported
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const message = parse(line);
        if (message?.id === 1) send(INITIALIZED, TOOLS_LIST);
        if (message?.id === 2 && !answer) {
          const tools = (message.result as { tools?: unknown[] } | undefined)?.tools;
          if (!Array.isArray(tools)) return fail(`tools/list answered without tools: ${line.slice(0, 200)}`);
          answer = { toolsListMs: performance.now() - t0, tools: tools.length, answerBytes: Buffer.byteLength(line) };
          child.stdin.end();
        }
      }
    });
    child.on('error', (err) => fail(`could not be started: ${err.message}`));
    child.on('exit', (code, signal) => {
      const exitMs = performance.now() - t0;
      clearTimeout(timer);
      if (answer) resolve({ ...answer, exitMs });
      else reject(new Error(`${server.label}: exited (${code ?? signal}) before answering tools/list${stderr.trim() ? `; stderr: ${stderr.trim().slice(-300)}` : ''}`));
    });
    send(INITIALIZE);
  });
}

function parse(line: string): { id?: unknown; result?: unknown } | undefined {
  try {
    return JSON.parse(line) as { id?: unknown; result?: unknown };
  } catch {
    return undefined; // a server that logs on stdout: not an answer
  }
}

export interface StartupComparison {
  ours: StartAndClose[];
  theirs: StartAndClose[];
  rows: ComparisonRow[];
}

/**
 * `runs` alternating starts of each (after one warm-up start each, not counted: it fills the
 * file cache).
 */
export async function compareStartup(options: {
  runs: number;
  ours: ServerCommand;
  /** The other server, or why there is none (its rows then say so). */
  peer: ServerCommand | { label: string; skipped: string };
  env: StartupEnv;
  log?: (line: string) => void;
}): Promise<StartupComparison> {
  const { ours, peer, env, runs } = options;
  const log = options.log ?? (() => undefined);
  const mine: StartAndClose[] = [];
  const theirs: StartAndClose[] = [];
  const against = peer.label;
  let other = 'skipped' in peer ? undefined : peer;
  let skipped = 'skipped' in peer ? peer.skipped : undefined;
  /** One start of the peer; a failure ends its part (the note says which run), ours goes on. */
  const startPeer = async (when: string): Promise<StartAndClose | undefined> => {
    if (!other) return undefined;
    try {
      return await timeStartAndClose(other, env);
    } catch (err) {
      skipped = `the peer failed ${when}: ${(err as Error).message.slice(0, 300)}`;
      other = undefined;
      return undefined;
    }
  };
  await timeStartAndClose(ours, env);
  await startPeer('to start');
  for (let i = 0; i < runs; i++) {
    const peerRun = async (): Promise<void> => {
      const r = await startPeer(`on run ${i + 1}`);
      if (r) theirs.push(r);
    };
    if (i % 2 === 0) {
      mine.push(await timeStartAndClose(ours, env));
      await peerRun();
    } else {
      await peerRun();
      mine.push(await timeStartAndClose(ours, env));
    }
    const their = theirs.length === i + 1 ? `, ${against} ${theirs[i]!.exitMs.toFixed(0)} ms` : '';
    log(`start-up run ${i + 1}/${runs}: ${ours.label} ${mine.at(-1)!.exitMs.toFixed(0)} ms${their}`);
  }
  const mineInfo = `${ours.label}: ${mine[0]?.tools} tools, ${kb(mine[0]?.answerBytes)}`;
  const theirInfo = theirs[0] ? `; ${against}: ${theirs[0].tools} tools, ${kb(theirs[0].answerBytes)}` : '';
  const base = { against, theirs: NaN, ...(skipped ? { skipped } : {}) };
  const counts = `${runs} alternating runs each, medians`;
  return {
    ours: mine,
    theirs,
    rows: [
      {
        ...base,
        measure: 'spawn -> tools/list answered',
        ours: median(mine.map((r) => r.toolsListMs)),
        ...(skipped ? {} : { theirs: median(theirs.map((r) => r.toolsListMs)) }),
        note: `${counts}; ${mineInfo}${theirInfo}`,
      },
      {
        ...base,
        measure: 'spawn -> tools/list -> stdin closed -> exited',
        ours: median(mine.map((r) => r.exitMs)),
        ...(skipped ? {} : { theirs: median(theirs.map((r) => r.exitMs)) }),
        note: `${counts}; the whole process, both pointed at the same loopback ComfyUI`,
      },
    ],
  };
}

const kb = (bytes: number | undefined): string => (bytes === undefined ? '?' : `${(bytes / 1024).toFixed(1)} KB tools/list answer`);
