import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/** Loading real ComfyUI transcripts and rendering WS traffic in their `summary.ws` format. */

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'transcripts');

export interface TranscriptEvent {
  t_ms: number;
  source: 'ws' | 'http' | 'note';
  client?: string;
  kind?: 'open' | 'close' | 'text' | 'binary' | 'sent';
  type?: string;
  data?: unknown;
  method?: string;
  path?: string;
  label?: string;
  request_body?: unknown;
  status?: number;
  content_type?: string;
  body?: unknown;
}

export interface Transcript {
  scenario: string;
  clients: Record<string, { clientId: string | null; url: string; feature_flags_sent: Record<string, unknown> | null }>;
  summary: { ws: Record<string, string[]>; http: string[] };
  events: TranscriptEvent[];
}

export function loadTranscript(name: string): Transcript {
  return JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as Transcript;
}

const BINARY_NAMES: Record<number, string> = { 1: 'PREVIEW_IMAGE', 3: 'TEXT', 4: 'PREVIEW_IMAGE_WITH_METADATA' };

/** One text frame as a summary line, e.g. `progress_state(1:running:0/1,6:finished:1/1)`. */
export function renderText(type: string, data: Record<string, unknown>): string {
  switch (type) {
    case 'status': {
      const q = (data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining;
      return `status(queue_remaining=${q}${'sid' in data ? ', sid' : ''})`;
    }
    case 'execution_cached':
      return `execution_cached(nodes=[${(data.nodes as string[]).join(',')}])`;
    case 'progress_state': {
      const nodes = data.nodes as Record<string, { state: string; value: number; max: number }>;
      return `progress_state(${Object.entries(nodes).map(([id, n]) => `${id}:${n.state}:${n.value}/${n.max}`).join(',')})`;
    }
    case 'executing':
      return `executing(node=${data.node === null ? 'null' : String(data.node)}${'prompt_id' in data ? '' : ', no prompt_id'})`;
    case 'executed': {
      const output = data.output as Record<string, unknown> | null;
      return `executed(node=${String(data.node)}, output keys=${output ? Object.keys(output).join(',') : 'null'})`;
    }
    case 'progress':
      return `progress(${String(data.value)}/${String(data.max)} node=${String(data.node)})`;
    case 'execution_error':
      return `execution_error(node=${String(data.node_id)} ${String(data.exception_type)})`;
    case 'execution_interrupted':
      return `execution_interrupted(node=${String(data.node_id)})`;
    default:
      return type;
  }
}

/** A binary frame as a summary line, decoded with the server's layout (4-byte BE type first). */
export function renderBinary(frame: Buffer): string {
  const type = frame.readUInt32BE(0);
  const name = BINARY_NAMES[type] ?? `TYPE_${type}`;
  if (type === 1) return `binary:${name}(${frame.readUInt32BE(4) === 1 ? 'JPEG' : 'PNG'})`;
  if (type === 3) return `binary:${name}(node=${frame.subarray(8, 8 + frame.readUInt32BE(4)).toString('utf8')})`;
  return `binary:${name}`;
}

/** A WS client that records what it receives as summary lines. */
export class RecordingClient {
  readonly lines: string[] = ['[open]'];
  readonly frames: Array<{ type: string; data: Record<string, unknown> } | Buffer> = [];
  private constructor(readonly ws: WebSocket) {}

  static async connect(baseUrl: string, clientId: string | null, featureFlags?: Record<string, unknown> | null): Promise<RecordingClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws${clientId ? `?clientId=${clientId}` : ''}`);
    const client = new RecordingClient(ws);
    ws.on('message', (raw, isBinary) => {
      if (isBinary) {
        const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
        client.frames.push(buf);
        client.lines.push(renderBinary(buf));
        return;
      }
      const msg = JSON.parse(raw.toString()) as { type: string; data: Record<string, unknown> };
      client.frames.push(msg);
      client.lines.push(renderText(msg.type, msg.data));
    });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    if (featureFlags) {
      ws.send(JSON.stringify({ type: 'feature_flags', data: featureFlags }));
      client.lines.splice(1, 0, '[sent]');
    }
    return client;
  }

  /** Received lines, not counting [open]/[sent]. */
  get received(): number {
    return this.lines.filter((l) => l !== '[open]' && l !== '[sent]').length;
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.received < count && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  }

  /** Resolves once a received line satisfies `match`; rejects after `timeoutMs`. */
  async waitForLine(match: (line: string) => boolean, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.lines.some(match)) {
      if (Date.now() > end) throw new Error(`no matching line; got ${this.lines.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Resolves once a text frame of this type arrived. */
  waitForType(type: string, timeoutMs = 5000): Promise<void> {
    return this.waitForLine((l) => l === type || l.startsWith(`${type}(`), timeoutMs);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => { this.ws.once('close', () => resolve()); this.ws.close(1000); });
    this.lines.push('[close]');
  }
}
