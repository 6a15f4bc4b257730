import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ApiPrompt } from '../src/comfy/types.js';

/**
 * The baseline of the completion-latency comparison: a client written the way most ComfyUI
 * integrations are (the API examples, most bots and plugins): POST /prompt, then GET
 * /history/{id} every second until the prompt appears there, then GET /view for each image,
 * one after the other. It is honest, not handicapped: it asks at once after submitting, reads
 * history the moment an entry exists, and downloads with keep-alive (Node's fetch).
 */

export const BASELINE_POLL_MS = 1000;
const DEFAULT_MAX_WAIT_MS = 10 * 60_000;

export interface BaselineOptions {
  baseUrl: string;
  /** Sent as client_id, as ComfyUI's examples do (the poller itself never opens the socket). */
  clientId: string;
  outDir: string;
  pollMs?: number;
  /** Gives up once a poll at or after this much time (from submitting) still finds nothing. */
  maxWaitMs?: number;
  fetch?: typeof fetch;
}

export interface BaselineFile {
  filename: string;
  subfolder: string;
  type: string;
  path: string;
  bytes: number;
}

export interface BaselineResult {
  promptId: string;
  /** history's status_str ("success", "error"). */
  status: string;
  files: BaselineFile[];
  /** GET /history requests made, the last one being the one that found the entry. */
  polls: number;
}

interface HistoryImage {
  filename: string;
  subfolder?: string;
  type?: string;
}

interface HistoryEntry {
  outputs?: Record<string, { images?: HistoryImage[] }>;
  status?: { status_str?: string };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HistoryPoller {
  private readonly pollMs: number;
  private readonly maxWaitMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: BaselineOptions) {
    this.pollMs = options.pollMs ?? BASELINE_POLL_MS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.fetch = options.fetch ?? fetch;
  }

  async run(prompt: ApiPrompt): Promise<BaselineResult> {
    const promptId = await this.submit(prompt);
    const { entry, polls } = await this.waitForHistory(promptId);
    const files: BaselineFile[] = [];
    for (const output of Object.values(entry.outputs ?? {})) {
      for (const image of output.images ?? []) files.push(await this.download(promptId, image));
    }
    return { promptId, status: entry.status?.status_str ?? 'unknown', files, polls };
  }

  private async submit(prompt: ApiPrompt): Promise<string> {
    const res = await this.fetch(`${this.options.baseUrl}/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, client_id: this.options.clientId }),
    });
    if (!res.ok) throw new Error(`POST /prompt answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json()) as { prompt_id?: unknown };
    if (typeof body.prompt_id !== 'string') throw new Error('POST /prompt answered without a prompt_id');
    return body.prompt_id;
  }

  private async waitForHistory(promptId: string): Promise<{ entry: HistoryEntry; polls: number }> {
    const started = Date.now();
    for (let polls = 1; ; polls++) {
      const res = await this.fetch(`${this.options.baseUrl}/history/${encodeURIComponent(promptId)}`);
      if (!res.ok) throw new Error(`GET /history answered ${res.status}`);
      const entry = ((await res.json()) as Record<string, HistoryEntry | undefined>)[promptId];
      if (entry) return { entry, polls };
      if (Date.now() - started >= this.maxWaitMs) {
        throw new Error(`prompt ${promptId} was not in /history after ${polls} polls over ${this.maxWaitMs} ms`);
      }
      await sleep(this.pollMs);
    }
  }

  private async download(promptId: string, image: HistoryImage): Promise<BaselineFile> {
    const subfolder = image.subfolder ?? '';
    const type = image.type ?? 'output';
    const query = new URLSearchParams({ filename: image.filename, subfolder, type });
    const res = await this.fetch(`${this.options.baseUrl}/view?${query}`);
    if (!res.ok) throw new Error(`GET /view for ${image.filename} answered ${res.status}`);
    const data = Buffer.from(await res.arrayBuffer());
    const dir = join(this.options.outDir, promptId);
    await mkdir(dir, { recursive: true });
    // basename: a name from the server never leaves the output folder.
    const path = join(dir, basename(image.filename));
    await writeFile(path, data);
    return { filename: image.filename, subfolder, type, path, bytes: data.length };
  }
}
