import { encodePng } from '../../src/simulator/png.js';
import { ServerHolds, type ReplayFaults } from './step-holds.js';
import { RecordingClient, type Transcript, type TranscriptEvent } from './transcript.js';

/**
 * Replays a transcript's HTTP requests and WS clients against a server. Each step waits
 * until every open client has received as many frames as it had at that point of the
 * recording (and until the recorded time), so races resolve the way they did for real.
 * Sleeps only pace the replay like the recording; none is meant to land between two frames.
 */
export interface HttpResult {
  event: TranscriptEvent;
  status: number;
  contentType: string;
  body: unknown;
}

export interface ReplayResult {
  clients: Record<string, RecordingClient>;
  http: HttpResult[];
  /** our prompt id -> recorded prompt id, and our number -> recorded number. */
  ids: Map<string, string>;
  numbers: Map<number, number>;
}

/** The history write lands a little after a run ends; bounded wait for it. */
const HISTORY_WAIT_MS = 5000;
const HISTORY_POLL_MS = 10;

export interface ReplayOptions {
  /** The simulator's faults: with them, races go the recorded way (see step-holds.ts). */
  faults?: ReplayFaults;
  /**
   * Hold the server's worker from the start until this many POST /prompt were answered, for a
   * recording in which they were all queued before ComfyUI's worker took the first one.
   */
  holdWorkerUntilPosts?: number;
}

function recordedHasEntry(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Object.keys(body).length > 0;
}
const SMALL_PNG = encodePng(1, 1, new Uint8Array([200, 10, 10]));
const BIG_PNG = encodePng(16, 16, new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256));

function countsBefore(t: Transcript, index: number): Map<string, number> {
  const counts = new Map<string, number>();
  t.events.slice(0, index).forEach((e) => {
    if (e.source === 'ws' && (e.kind === 'text' || e.kind === 'binary') && e.client) counts.set(e.client, (counts.get(e.client) ?? 0) + 1);
  });
  return counts;
}

function mapIds(value: unknown, toOurs: Map<string, string>): unknown {
  const json = JSON.stringify(value);
  let out = json;
  for (const [recorded, ours] of toOurs) out = out.split(recorded).join(ours);
  return JSON.parse(out) as unknown;
}

function multipart(spec: Record<string, string>): { body: Buffer; contentType: string } {
  const boundary = '----comfywireReplayBoundary';
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(spec)) {
    const file = /^(.+) \((\d+) bytes PNG\)$/.exec(value);
    const head = file
      ? `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file[1]}"\r\nContent-Type: image/png\r\n\r\n`
      : `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`;
    chunks.push(Buffer.from(head), file ? (Number(file[2]) < 200 ? SMALL_PNG : BIG_PNG) : Buffer.from(value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function replayTranscript(t: Transcript, baseUrl: string, preset: Map<string, string> = new Map(), options: ReplayOptions = {}): Promise<ReplayResult> {
  const holds = new ServerHolds(t, options.faults, options.holdWorkerUntilPosts);
  holds.start();
  try {
    return await replaySteps(t, baseUrl, preset, holds);
  } finally {
    holds.end();
  }
}

async function replaySteps(t: Transcript, baseUrl: string, preset: Map<string, string>, holds: ServerHolds): Promise<ReplayResult> {
  const clients: Record<string, RecordingClient> = {};
  const http: HttpResult[] = [];
  const toOurs = new Map<string, string>(preset);
  const ids = new Map<string, string>([...preset].map(([r, o]) => [o, r]));
  const numbers = new Map<number, number>();
  const start = Date.now();
  const closes = new Map<string, { ours: number; recorded: number }>();
  const settle = async (index: number, timeMs: number): Promise<void> => {
    const counts = countsBefore(t, index);
    for (const [name, client] of Object.entries(clients)) await client.waitFor(counts.get(name) ?? 0);
    const wait = start + timeMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  for (const [index, e] of t.events.entries()) {
    holds.beforeAction(index);
    if (e.source === 'ws' && e.kind === 'open' && e.client) {
      // A socket that comes back with the same clientId waits at least the recording's gap after
      // our close of the earlier one, so the server has dropped the old socket before the new one
      // arrives (closing any socket of a sid unregisters the sid). Where in the run it lands is an
      // event, not a time: the server waits before the step the recording's socket heard first.
      const previous = Object.keys(clients).find((n) => t.clients[n]?.clientId === t.clients[e.client!]?.clientId);
      const closedAt = previous ? closes.get(previous) : undefined;
      await settle(index, e.t_ms);
      if (closedAt) {
        const wait = closedAt.ours + (e.t_ms - closedAt.recorded) - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await holds.beforeJoin(index);
      const spec = t.clients[e.client];
      clients[e.client] = await RecordingClient.connect(baseUrl, spec?.clientId ?? null, spec?.feature_flags_sent);
    } else if (e.source === 'ws' && e.kind === 'close' && e.client) {
      await settle(index, e.t_ms);
      await clients[e.client]?.waitFor(t.summary.ws[e.client]!.filter((l) => !l.startsWith('[')).length, 5000);
      await clients[e.client]?.close();
      closes.set(e.client, { ours: Date.now(), recorded: e.t_ms });
    } else if (e.source === 'http') {
      await settle(index, e.t_ms);
      const path = mapIds(e.path, toOurs) as string;
      let body: Buffer | string | undefined;
      let contentType: string | undefined = 'application/json';
      if (typeof e.request_body === 'string') body = e.request_body;
      else if (e.request_body && typeof e.request_body === 'object' && 'multipart' in e.request_body) {
        const mp = multipart((e.request_body as { multipart: Record<string, string> }).multipart);
        body = mp.body;
        contentType = mp.contentType;
      } else if (e.request_body !== undefined) body = JSON.stringify(mapIds(e.request_body, toOurs));
      else contentType = undefined;
      const recorded = e.body as { prompt_id?: string; number?: number } | undefined;
      const isPost = e.path === '/prompt' && e.method === 'POST';
      if (isPost) holds.beforePost(recorded?.prompt_id);
      let res = await fetch(`${baseUrl}${path}`, { method: e.method, body, headers: contentType ? { 'Content-Type': contentType } : {} });
      // A run with no client_id sends its submitter nothing to wait on, so when the recording read
      // a finished entry, poll briefly: the history write lands a little after the run ends.
      if (e.method === 'GET' && /^\/history\/[^/?]+$/.test(e.path ?? '') && recordedHasEntry(e.body)) {
        const end = Date.now() + HISTORY_WAIT_MS;
        while (Object.keys(await res.clone().json() as object).length === 0 && Date.now() < end) {
          await new Promise((r) => setTimeout(r, HISTORY_POLL_MS));
          res = await fetch(`${baseUrl}${path}`);
        }
      }
      const type = res.headers.get('content-type') ?? '';
      const raw = Buffer.from(await res.arrayBuffer());
      let parsed: unknown = raw.toString('utf8');
      if (type.startsWith('application/json')) parsed = JSON.parse(raw.toString('utf8')) as unknown;
      else if (type.startsWith('image/')) parsed = { binary: true, bytes: raw.length, head_hex: raw.subarray(0, 16).toString('hex') };
      http.push({ event: e, status: res.status, contentType: type, body: parsed });
      const mine = parsed as { prompt_id?: string; number?: number };
      if (isPost) holds.afterPost(recorded?.prompt_id, res.status === 200 ? mine.prompt_id : undefined);
      if (isPost && res.status === 200 && recorded?.prompt_id && mine.prompt_id) {
        toOurs.set(recorded.prompt_id, mine.prompt_id);
        ids.set(mine.prompt_id, recorded.prompt_id);
        if (typeof recorded.number === 'number' && typeof mine.number === 'number') numbers.set(mine.number, recorded.number);
      }
    }
  }
  for (const [name, client] of Object.entries(clients)) {
    if (client.lines.at(-1) === '[close]') continue;
    await client.waitFor(t.summary.ws[name]!.filter((l) => !l.startsWith('[')).length);
    await client.close();
  }
  return { clients, http, ids, numbers };
}
