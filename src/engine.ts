import { filter, finalize, firstValueFrom, map, race, timer, type Observable, type Subscription } from 'rxjs';
import type { Config } from './config.js';
import { authHeaders } from './config.js';
import { ComfyClient } from './comfy/client.js';
import { ObjectInfoCache } from './comfy/object-info-cache.js';
import type { ApiPrompt, ObjectInfo } from './comfy/types.js';
import { CancelledError, ComfyUnreachableError, type ComfywireError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { exposureWarning } from './exposure.js';
import type { CancelOutcome, ComfyEngine, EngineCounts, EngineHost, SubmitOptions } from './engine-api.js';
import { hostPortName } from './fleet/hosts.js';
import { ComfyConnection, type WebSocketFactory } from '../streams/connection.js';
import type { BackoffOptions } from '../streams/backoff.js';
import type { ComfyEvent } from '../streams/messages.js';
import type { JobState } from '../streams/job-state.js';
import { PromptRouter } from '../streams/prompt-router.js';
import { JobTracker, type TrackedJob } from '../streams/job-tracker.js';
import { settleFacts } from './jobs/settle.js';
import { JobPolicies } from './jobs/job-policies.js';
import { Submission } from './jobs/submission.js';

export type { CancelOutcome, ComfyEngine, EngineCounts, SubmitOptions } from './engine-api.js';
export { OBJECT_INFO_TTL_MS } from './comfy/object-info-cache.js';
export { RESYNC_RETRIES, RESYNC_RETRY_DELAY_MS, RESYNC_RETRY_MAX_DELAY_MS, resyncRetryDelay } from './jobs/job-policies.js';

/**
 * The wiring: one HTTP client, one shared socket, the router and the job tracker for the whole
 * process, with the job policies (src/jobs/job-policies.ts), submission and cancel
 * (src/jobs/submission.ts) and the /object_info cache plugged in. Callers see it as a
 * ComfyEngine (src/engine-api.ts); its parts stay reachable here for the tests.
 */

export interface EngineOptions {
  config: Readonly<Config>;
  logger?: Logger;
  webSocketFactory?: WebSocketFactory;
  /** Reconnect policy of the socket; by default it never gives up (a long-running server must outlive ComfyUI restarts). */
  backoff?: Partial<BackoffOptions>;
  /** The host's name (src/fleet/hosts.ts), written into each job's state; defaults to the first configured host's. */
  hostName?: string;
}

export class Engine implements ComfyEngine {
  readonly config: Readonly<Config>;
  readonly client: ComfyClient;
  readonly connection: ComfyConnection;
  readonly router: PromptRouter;
  readonly jobs: JobTracker;
  /** The host's name in job states and tool answers. */
  readonly hostName: string;
  private readonly logger: Logger;
  private readonly submission: Submission;
  private readonly policies: JobPolicies;
  private readonly objectInfoCache: ObjectInfoCache;
  /** Counts socket re-opens, so a submission can tell whether one happened during its POST. */
  private reconnects = 0;
  /** Jobs whose run is over and whose outputs are being fetched: stopDownloads() / close() end them. */
  private readonly downloading = new Map<string, AbortController>();
  /** Set by close(): downloads that would start later are stopped with it too. */
  private closedDownloads: ComfywireError | undefined;
  private readonly subscriptions: Subscription[] = [];
  private started = false;

  constructor(options: EngineOptions) {
    this.config = options.config;
    this.logger = options.logger ?? silentLogger();
    const { config } = options;
    this.hostName = options.hostName ?? config.hosts?.[0]?.name ?? hostPortName(config.comfyUrl);
    const logger = this.logger;
    const client = (this.client = new ComfyClient({
      baseUrl: config.comfyUrl,
      auth: config.auth,
      clientId: config.clientId,
      requestTimeoutMs: config.requestTimeoutMs,
      logger,
      downloadLimits: {
        maxBytes: config.limits.downloadMaxBytes,
        timeoutMs: config.limits.downloadTimeoutMs,
        minBytesPerS: config.limits.downloadMinBytesPerS,
      },
    }));
    this.connection = new ComfyConnection({
      baseUrl: config.comfyUrl,
      clientId: config.clientId,
      headers: authHeaders(config.auth),
      stallTimeoutMs: config.stallTimeoutMs,
      pingIntervalMs: config.pingIntervalMs,
      logger,
      ...(options.webSocketFactory ? { webSocketFactory: options.webSocketFactory } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    this.router = new PromptRouter(this.connection.events$);
    this.jobs = new JobTracker({
      router: this.router,
      recentLimit: config.recentJobs,
      settle: (state, ctx) => {
        const deps = { client, outputDir: config.outputDir, logger, download: this.submission.takeDownloadWish(state.promptId) };
        // No downloads, nothing to stop: the stop handle is made only when there may be some (it
        // costs a few microseconds on every job's critical path otherwise; bench/latency.ts).
        if (!deps.download) return settleFacts(state, ctx, deps);
        const downloads = new AbortController();
        if (this.closedDownloads) downloads.abort(this.closedDownloads);
        this.downloading.set(state.promptId, downloads);
        return settleFacts(state, ctx, { ...deps, signal: downloads.signal }).pipe(finalize(() => this.downloading.delete(state.promptId)));
      },
    });
    this.submission = new Submission({
      client,
      tracker: this.jobs,
      waitUntilOpen: () => this.waitUntilOpen(),
      maxActiveJobs: config.limits.maxActiveJobs,
      hostName: this.hostName,
      reconnects: () => this.reconnects,
      refreshQueue: () => this.policies.refreshQueue(),
      resyncAgain: () => this.policies.resyncAgain(),
    });
    this.policies = new JobPolicies({ connection: this.connection, tracker: this.jobs, client, cancelling: this.submission.cancelling, logger });
    // Through the client object at call time: tests stand in for its methods.
    this.objectInfoCache = new ObjectInfoCache(() => client.getObjectInfo());
  }

  get comfy(): ComfyClient {
    return this.client;
  }

  get events$(): Observable<ComfyEvent> {
    return this.connection.events$;
  }

  start(): this {
    if (this.started) return this;
    this.started = true;
    // Said once, when this process first talks to ComfyUI: the user chose that server, but may not know what crosses to it.
    const exposure = exposureWarning(this.config.comfyUrl);
    if (exposure) this.logger.warn(exposure);
    this.connection.start();
    this.subscriptions.push(
      this.connection.reconnected$.subscribe(() => {
        this.reconnects++;
        // The server that answered may be another version now (docs/comfyui-api-generations.md).
        this.client.forgetApiGeneration();
        // A ComfyUI that went away may come back with other custom nodes or models.
        this.objectInfoCache.invalidate();
      }),
      ...this.policies.start(),
    );
    return this;
  }

  objectInfo(): Promise<ObjectInfo> {
    return this.objectInfoCache.get();
  }

  job(promptId: string): TrackedJob | undefined {
    return this.jobs.active(promptId);
  }

  jobState(promptId: string): JobState | undefined {
    return this.jobs.get(promptId);
  }

  inFlight(): TrackedJob[] {
    return this.jobs.activeJobs();
  }

  recent(limit?: number): JobState[] {
    return this.jobs.recent(limit);
  }

  /** This engine's one host (what a fleet of one shows; src/fleet/ has the dispatch figures). */
  hostList(): readonly EngineHost[] {
    const name = this.hostName;
    return [
      {
        name,
        url: this.config.comfyUrl,
        comfy: this.client,
        status: () => ({
          name,
          url: this.config.comfyUrl,
          state: this.connection.state,
          up: this.connection.state === 'open',
          weight: 1,
          tags: [],
          draining: false,
          queue: 0,
          jobsInFlight: this.jobs.activeCount,
          secondsPerJob: undefined,
          loadedCheckpoint: undefined,
          catalog: undefined,
        }),
      },
    ];
  }

  counts(): EngineCounts {
    return {
      jobsInFlight: this.jobs.activeCount,
      recentJobs: this.jobs.recentCount,
      promptRoutes: this.router.size,
      downloads: this.downloading.size,
      noDownloadMarks: this.submission.pendingNoDownload,
      ...this.connection.counts(),
      httpConnections: this.client.openConnections(),
    };
  }

  /** Resolves once the socket is open; rejects with ComfyUnreachableError after `timeoutMs`. */
  async waitUntilOpen(timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    if (this.connection.state === 'open') return;
    // An HTTP probe turns "the socket will not open" into the precise reason at once:
    // ComfyUnreachableError (nothing listens) or ComfyAuthRefusedError (a proxy said 401/403).
    await this.client.getPromptCounter();
    // A closed connection never opens again (close() ran, or it gave up reconnecting): say so
    // instead of waiting out the timeout or failing with RxJS's bare "no elements in sequence".
    const settled = this.connection.state$.pipe(filter((s) => s === 'open' || s === 'closed'));
    const outcome = await firstValueFrom(race(settled, timer(timeoutMs).pipe(map(() => 'timeout' as const))), {
      defaultValue: 'closed' as const,
    });
    if (outcome === 'open') return;
    if (outcome === 'timeout') {
      // HTTP answered (the probe above), so "not reachable" alone would send the user to the wrong
      // place: the socket is what fails, nearly always a proxy that does not pass WebSocket upgrades.
      throw new ComfyUnreachableError(this.config.comfyUrl, {
        message: `ComfyUI answers HTTP at ${this.config.comfyUrl}, but its WebSocket (/ws) did not open within ${timeoutMs} ms.`,
        hint:
          'A reverse proxy in front of ComfyUI must pass WebSocket upgrades on /ws (nginx: proxy_http_version 1.1 and the ' +
          'Upgrade and Connection headers). `comfywire doctor` shows the socket\'s own error.',
        context: { reason: `the WebSocket did not open within ${timeoutMs} ms` },
      });
    }
    throw new ComfyUnreachableError(this.config.comfyUrl, {
      context: { reason: 'the connection to its WebSocket is closed (comfywire is shutting down, or it gave up reconnecting)' },
    });
  }

  async submit(prompt: ApiPrompt, options: SubmitOptions = {}): Promise<TrackedJob> {
    this.start();
    return this.submission.submit(prompt, options);
  }

  cancel(promptId: string): Promise<CancelOutcome> {
    return this.submission.cancel(promptId);
  }

  /**
   * Stops the downloads of a job that is settling; each missing file is recorded with `reason`
   * and the job settles at once. Resolves with the settled state (undefined for an unknown job).
   */
  async stopDownloads(promptId: string, reason: ComfywireError): Promise<JobState | undefined> {
    this.downloading.get(promptId)?.abort(reason);
    return this.jobs.active(promptId)?.done ?? this.jobs.get(promptId);
  }

  async close(): Promise<void> {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    // A download must not keep a closing process alive (a server trickling a file would, for ever).
    const stopped = (this.closedDownloads = new CancelledError('comfywire shut down while the file was downloading; the partial file was removed.', {
      hint: "Take it from ComfyUI's output folder, or ask get_workflow_status for the job again.",
    }));
    for (const controller of this.downloading.values()) controller.abort(stopped);
    await this.jobs.loseAll('comfywire shut down before the job finished; it may still be running in ComfyUI.');
    this.router.close();
    await this.connection.close();
  }
}
