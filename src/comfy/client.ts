import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { FileRef } from '../../streams/messages.js';
import { authHeaders, type ComfyAuth } from '../config.js';
import { ComfyHttpError, ParameterInvalidError, type NodeInputProblem } from '../errors.js';
import type { Logger } from '../logger.js';
import { downloadFile } from './download.js';
import type { DownloadLimits } from './download-limits.js';
import { uploadForm, type UploadOptions, type UploadSource } from './upload-form.js';
import { ComfyHttp, type HttpRequest, type RetryPolicy } from './http.js';
import { explainProblems, mapNodeErrors, rejectionFrom400 } from './node-errors.js';
import {
  FeaturesSchema, HistoryMapSchema, JobCancelSchema, JobSchema, ObjectInfoSchema, PromptAcceptedSchema, QueueCounterSchema,
  QueueSchema, StringListSchema, SystemStatsSchema, UploadReplySchema, UserdataListingSchema, parseBody,
  type HistoryEntry, type JobInfo, type QueueItem, type SystemStats,
} from './schemas.js';
import { ApiGeneration } from './api-generation.js';
import type { ApiPrompt, NodeInfo, ObjectInfo } from './types.js';
import { own } from '../input-policy/index.js';

export type { ApiPrompt } from './types.js';
export type { HistoryEntry, JobInfo, QueueItem, SystemStats } from './schemas.js';

/**
 * GET /object_info scans every model folder and answers many MB on a big install: the first call
 * can take far longer than an ordinary request, so it gets at least this long.
 */
export const OBJECT_INFO_MIN_TIMEOUT_MS = 120_000;

/** GET /history without max_items returns up to 10 000 full entries; never ask for that by accident. */
export const DEFAULT_HISTORY_MAX_ITEMS = 100;

export interface ComfyClientOptions {
  baseUrl: string;
  auth: ComfyAuth;
  /** Sent as client_id with every prompt: ComfyUI routes that prompt's events to this socket id. */
  clientId: string;
  requestTimeoutMs: number;
  logger?: Logger;
  /** Overrides of the GET retry policy (tests use short delays). */
  retry?: Partial<RetryPolicy>;
  /** undici dispatcher; the global one when absent. */
  dispatcher?: Dispatcher;
  /** Size cap, deadline and least throughput of each download (config.limits); none when absent. */
  downloadLimits?: DownloadLimits;
}

export interface SubmitOptions {
  promptId?: string;
  front?: boolean;
  number?: number;
  extraData?: Record<string, unknown>;
  partialExecutionTargets?: string[];
  signal?: AbortSignal;
}

export type { UploadOptions, UploadSource } from './upload-form.js';

/** Typed access to ComfyUI's HTTP routes. Stateless apart from configuration; safe to share. */
export class ComfyClient {
  readonly baseUrl: string;
  readonly clientId: string;
  private readonly http: ComfyHttp;
  private readonly logger: Logger | undefined;
  private readonly downloadLimits: DownloadLimits | undefined;
  /** What this server's API offers beyond 0.3.64, learnt per connection (api-generation.ts). */
  readonly apiGeneration = new ApiGeneration(() => this.probeJobsApi());

  constructor(options: ComfyClientOptions) {
    this.http = new ComfyHttp({
      baseUrl: options.baseUrl,
      headers: authHeaders(options.auth),
      timeoutMs: options.requestTimeoutMs,
      retry: options.retry,
      logger: options.logger,
      dispatcher: options.dispatcher,
    });
    this.baseUrl = this.http.baseUrl;
    this.clientId = options.clientId;
    this.logger = options.logger;
    this.downloadLimits = options.downloadLimits;
  }

  /** Queues a prompt. 400 throws PromptRejectedError; a 200 can still carry node errors (dropped outputs). */
  async submitPrompt(
    prompt: ApiPrompt,
    opts: SubmitOptions = {},
  ): Promise<{ promptId: string; number: number; nodeErrors: NodeInputProblem[] }> {
    // Our own id, so the caller can subscribe to its events before the POST returns (events can win the race).
    const promptId = opts.promptId ?? randomUUID();
    const body: Record<string, unknown> = {
      prompt,
      client_id: this.clientId,
      prompt_id: promptId,
      extra_data: { ...opts.extraData },
    };
    if (opts.front !== undefined) body['front'] = opts.front;
    if (opts.number !== undefined) body['number'] = opts.number;
    if (opts.partialExecutionTargets) body['partial_execution_targets'] = opts.partialExecutionTargets;
    const req: HttpRequest = { method: 'POST', path: '/prompt', json: body, signal: opts.signal, allowStatus: [400] };
    const { status, text } = await this.http.send(req);
    if (status === 400) throw rejectionFrom400(text, this.http.url(req.path), prompt);
    const accepted = parseBody(PromptAcceptedSchema, this.http.parseJson(req, status, text), 'POST /prompt');
    const nodeErrors = mapNodeErrors(accepted.node_errors, prompt);
    if (nodeErrors.length) {
      this.logger?.warn('prompt queued with some outputs dropped', { promptId: accepted.prompt_id, problems: explainProblems(nodeErrors) });
    }
    return { promptId: accepted.prompt_id, number: accepted.number, nodeErrors };
  }

  /** Sockets open to ComfyUI in the HTTP pool (diagnostics; undefined for a dispatcher without stats). */
  openConnections(): number | undefined {
    return this.http.openConnections();
  }

  /** Pending plus running prompts. */
  async getPromptCounter(): Promise<number> {
    const { body } = await this.http.json({ method: 'GET', path: '/prompt' });
    return parseBody(QueueCounterSchema, body, 'GET /prompt').exec_info.queue_remaining;
  }

  async getQueue(): Promise<{ running: QueueItem[]; pending: QueueItem[] }> {
    const { body } = await this.http.json({ method: 'GET', path: '/queue' });
    const queue = parseBody(QueueSchema, body, 'GET /queue');
    // ComfyUI sends its heap array; execution order is (number, prompt_id), ids compared by code point.
    const pending = [...queue.queue_pending].sort((a, b) =>
      a.number !== b.number ? a.number - b.number : a.promptId < b.promptId ? -1 : a.promptId > b.promptId ? 1 : 0,
    );
    return { running: queue.queue_running, pending };
  }

  async deleteFromQueue(promptIds: string[]): Promise<void> {
    await this.http.send({ method: 'POST', path: '/queue', json: { delete: promptIds } });
  }

  /** Empties the pending list; the running prompt is untouched (use interrupt). */
  async clearQueue(): Promise<void> {
    await this.http.send({ method: 'POST', path: '/queue', json: { clear: true } });
  }

  /** With a prompt id, stops only that prompt if it is the running one; without, stops whatever runs. */
  async interrupt(promptId?: string): Promise<void> {
    // ComfyUI tests `if prompt_id:`, so an empty id would stop whatever runs, whoever submitted it.
    if (promptId !== undefined && promptId === '') {
      throw new ParameterInvalidError('An empty prompt id cannot be interrupted: ComfyUI would read it as a global interrupt.', {
        hint: 'Pass the id of the prompt to stop, or no id at all to stop whatever is running.',
      });
    }
    await this.http.send({ method: 'POST', path: '/interrupt', json: promptId === undefined ? {} : { prompt_id: promptId } });
  }

  /** `undefined` while the prompt is queued or running, and for unknown ids (ComfyUI answers `{}`). */
  async getHistory(promptId: string): Promise<HistoryEntry | undefined> {
    const path = `/history/${encodeURIComponent(promptId)}`;
    const { body } = await this.http.json({ method: 'GET', path });
    // Own entries only: an id such as "constructor" is not in the history, whatever Object has.
    return own(parseBody(HistoryMapSchema, body, `GET ${path}`), promptId);
  }

  /** Whether the server has the jobs API (asked once per connection; see api-generation.ts). */
  hasJobsApi(): Promise<boolean> {
    return this.apiGeneration.hasJobsApi();
  }

  /** A reconnect: the server may be another version now. */
  forgetApiGeneration(): void {
    this.apiGeneration.forget();
  }

  private async probeJobsApi(): Promise<boolean> {
    // 405: aiohttp's catch-all static route answers an unknown path that way for some methods.
    const req: HttpRequest = { method: 'GET', path: '/api/jobs', query: { limit: 1 }, allowStatus: [404, 405] };
    const { status } = await this.http.send(req);
    return status === 200;
  }

  /**
   * GET /api/jobs/{id} (jobs API only): the job queued, running or finished; `undefined` when the
   * server does not know it (404 "Job not found"), which /history/{id} cannot tell apart from a
   * job still running.
   */
  async getJob(promptId: string): Promise<JobInfo | undefined> {
    const req: HttpRequest = { method: 'GET', path: `/api/jobs/${encodeURIComponent(promptId)}`, allowStatus: [404] };
    const { status, text } = await this.http.send(req);
    if (status === 404) return undefined;
    return parseBody(JobSchema, this.http.parseJson(req, status, text), `GET ${req.path}`);
  }

  /**
   * POST /api/jobs/{id}/cancel: `true` when ComfyUI interrupted or dequeued the job, `false` when it
   * was finished or unknown (a no-op there), `undefined` when the server has no such route (then
   * remembered for this connection, and the caller cancels the 0.3.64 way).
   */
  async cancelJob(promptId: string): Promise<boolean | undefined> {
    if (this.apiGeneration.targetedCancel === false) return undefined;
    const req: HttpRequest = { method: 'POST', path: `/api/jobs/${encodeURIComponent(promptId)}/cancel`, allowStatus: [404, 405] };
    const { status, text } = await this.http.send(req);
    if (status === 404 || status === 405) {
      this.apiGeneration.targetedCancel = false;
      return undefined;
    }
    this.apiGeneration.targetedCancel = true;
    return parseBody(JobCancelSchema, this.http.parseJson(req, status, text), `POST ${req.path}`).cancelled;
  }

  /** Newest `maxItems` entries (or a page from `offset`), oldest first, as ComfyUI lists them. */
  async getHistoryList(opts: { maxItems?: number; offset?: number } = {}): Promise<Array<{ promptId: string; entry: HistoryEntry }>> {
    const query = { max_items: opts.maxItems ?? DEFAULT_HISTORY_MAX_ITEMS, offset: opts.offset };
    const { body } = await this.http.json({ method: 'GET', path: '/history', query });
    return Object.entries(parseBody(HistoryMapSchema, body, 'GET /history')).map(([promptId, entry]) => ({ promptId, entry }));
  }

  async getObjectInfo(): Promise<ObjectInfo> {
    const timeoutMs = Math.max(this.http.timeoutMs, OBJECT_INFO_MIN_TIMEOUT_MS);
    const { body } = await this.http.json({ method: 'GET', path: '/object_info', timeoutMs });
    return parseBody(ObjectInfoSchema, body, 'GET /object_info') as ObjectInfo;
  }

  /** `undefined` when the class is not installed (ComfyUI answers `{}`). */
  async getNodeInfo(classType: string): Promise<NodeInfo | undefined> {
    const path = `/object_info/${encodeURIComponent(classType)}`;
    const { body } = await this.http.json({ method: 'GET', path });
    return own(parseBody(ObjectInfoSchema, body, `GET ${path}`), classType) as NodeInfo | undefined;
  }

  async getSystemStats(): Promise<SystemStats> {
    const { body } = await this.http.json({ method: 'GET', path: '/system_stats' });
    return parseBody(SystemStatsSchema, body, 'GET /system_stats');
  }

  /** Server feature flags; `undefined` on servers older than v0.3.45 (404). */
  async getFeatures(): Promise<Record<string, unknown> | undefined> {
    const req: HttpRequest = { method: 'GET', path: '/features', allowStatus: [404] };
    const { status, text } = await this.http.send(req);
    return status === 404 ? undefined : parseBody(FeaturesSchema, this.http.parseJson(req, status, text), 'GET /features');
  }

  async listModelFolders(): Promise<string[]> {
    const { body } = await this.http.json({ method: 'GET', path: '/models' });
    return parseBody(StringListSchema, body, 'GET /models');
  }

  async listModels(folder: string): Promise<string[]> {
    const req: HttpRequest = { method: 'GET', path: `/models/${encodeURIComponent(folder)}`, allowStatus: [404] };
    const { status, text } = await this.http.send(req);
    if (status === 404) {
      throw new ComfyHttpError('GET', this.http.url(req.path), status, text, {
        hint: `ComfyUI has no model folder "${folder}". List the folder keys with listModelFolders (e.g. checkpoints, loras, vae).`,
      });
    }
    return parseBody(StringListSchema, this.http.parseJson(req, status, text), `GET ${req.path}`);
  }

  /** The stored name can differ from the one sent (ComfyUI renames on conflict); use the reply. */
  async uploadImage(source: UploadSource, opts: UploadOptions = {}): Promise<{ name: string; subfolder: string; type: string }> {
    const form = await uploadForm(source, opts);
    const { body } = await this.http.json({ method: 'POST', path: '/upload/image', form, signal: opts.signal });
    const reply = parseBody(UploadReplySchema, body, 'POST /upload/image');
    return { name: reply.name, subfolder: reply.subfolder, type: reply.type };
  }

  /** UI-format workflows saved in ComfyUI's editor; `[]` when the user has none (404). */
  async listUserWorkflows(): Promise<Array<{ path: string; size?: number; modified?: number }>> {
    const req: HttpRequest = {
      method: 'GET',
      path: '/userdata',
      query: { dir: 'workflows', recurse: 'true', full_info: 'true' },
      allowStatus: [404],
    };
    const { status, text } = await this.http.send(req);
    if (status === 404) return [];
    return parseBody(UserdataListingSchema, this.http.parseJson(req, status, text), 'GET /userdata').map((f) => {
      const item: { path: string; size?: number; modified?: number } = { path: f.path };
      if ('size' in f && f.size !== undefined) item.size = f.size;
      if ('modified' in f && f.modified !== undefined) item.modified = f.modified;
      return item;
    });
  }

  /** `{file}` is one path segment on the server, so the `/` of `workflows/...` travels as %2F. */
  async readUserWorkflow(path: string): Promise<unknown> {
    const { body } = await this.http.json({ method: 'GET', path: `/userdata/${encodeURIComponent(`workflows/${path}`)}` });
    return body;
  }

  /** Applied by ComfyUI after the running prompt; free_memory also clears the execution cache. */
  async free(opts: { unloadModels?: boolean; freeMemory?: boolean }): Promise<void> {
    await this.http.send({
      method: 'POST',
      path: '/free',
      json: { unload_models: opts.unloadModels ?? false, free_memory: opts.freeMemory ?? false },
    });
  }

  /** URL of a file ComfyUI produced; `preview` like `webp;75` asks for a re-encoded thumbnail. */
  viewUrl(ref: FileRef, preview?: string): string {
    return this.http.url('/view', { filename: ref.filename, subfolder: ref.subfolder ?? '', type: ref.type, preview });
  }

  /**
   * Streams the file into `destDir` (never overwriting, never escaping it), within the client's
   * download limits (size cap, deadline, least throughput).
   */
  download(ref: FileRef, destDir: string, opts: { signal?: AbortSignal } = {}): Promise<{ path: string; bytes: number }> {
    return downloadFile(this.http, ref, destDir, { ...opts, limits: this.downloadLimits });
  }
}
