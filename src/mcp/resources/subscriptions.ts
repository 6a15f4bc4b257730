import { asyncScheduler, concat, EMPTY, filter, from, map, mergeMap, of, skip, Subscription, throttleTime, type SchedulerLike } from 'rxjs';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { isEndOfRun, promptIdOf } from '../../../streams/messages.js';
import type { McpDeps } from '../deps.js';
import { PROMPT_ID } from '../../input-policy/index.js';
import { notFound, variable } from './uri.js';

/**
 * resources/subscribe for job URIs: while a subscribed job runs, its state changes on every frame,
 * so `notifications/resources/updated` is coalesced to a few per second; throttleTime's trailing
 * edge also delivers the last change before the job's stream completes, so the final state is
 * always announced. Other URIs can be subscribed but do not change in ways worth announcing.
 */

export const RESOURCE_UPDATE_INTERVAL_MS = 250;
/** New jobs and finished downloads change the resource list; clients re-list at most this often. */
export const LIST_CHANGED_INTERVAL_MS = 1000;

const JOB_URI = /^comfywire:\/\/jobs\/([^/]+)$/;
/** Longer than any URI this server serves (an output path is at most ~1,200 characters). */
const MAX_URI_CHARS = 2048;

export class ResourceSubscriptions {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly listWatch: Subscription;

  constructor(
    private readonly server: McpServer,
    private readonly deps: McpDeps,
    private readonly intervalMs = RESOURCE_UPDATE_INTERVAL_MS,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {
    this.listWatch = this.watchList();
  }

  /** Installs the subscribe/unsubscribe handlers and declares the capability (before connect). */
  install(): void {
    this.server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
    this.server.server.setRequestHandler(SubscribeRequestSchema, (request) => {
      this.subscribe(request.params.uri);
      return {};
    });
    this.server.server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
      this.unsubscribe(request.params.uri);
      return {};
    });
  }

  subscribe(uri: string): void {
    if (this.subscriptions.has(uri)) return;
    // Each subscription keeps its URI: a URI no resource of ours could have is refused, not stored.
    if (uri.length > MAX_URI_CHARS) throw notFound(uri, `the URI is over ${MAX_URI_CHARS} characters; no resource of this server has one that long`);
    const match = JOB_URI.exec(uri);
    const job = match ? this.deps.engine.job(variable(match[1], uri, 'prompt_id', PROMPT_ID)) : undefined;
    if (!job) {
      // Finished, unknown or not a job: nothing will change, but the client may still unsubscribe.
      this.subscriptions.set(uri, new Subscription());
      return;
    }
    const sub = job.states$
      .pipe(skip(1), throttleTime(this.intervalMs, this.scheduler, { leading: true, trailing: true }))
      .subscribe(() => void this.notifyUpdated(uri));
    this.subscriptions.set(uri, sub);
  }

  unsubscribe(uri: string): void {
    this.subscriptions.get(uri)?.unsubscribe();
    this.subscriptions.delete(uri);
  }

  get size(): number {
    return this.subscriptions.size;
  }

  close(): void {
    for (const sub of this.subscriptions.values()) sub.unsubscribe();
    this.subscriptions.clear();
    this.listWatch.unsubscribe();
  }

  private async notifyUpdated(uri: string): Promise<void> {
    if (!this.server.isConnected()) return;
    try {
      await this.server.server.sendResourceUpdated({ uri });
    } catch (error) {
      this.deps.logger.debug(`resource update for ${uri} not sent: ${String(error)}`);
    }
  }

  /** One of our jobs started (a new job resource) or settled (its output files appeared). */
  private watchList(): Subscription {
    const { engine } = this.deps;
    return engine.events$
      .pipe(
        filter((event) => event.type === 'execution_start' || isEndOfRun(event)),
        map((event) => engine.job(promptIdOf(event) ?? '')),
        mergeMap((job) => (job ? concat(of(true), from(job.done).pipe(map(() => true))) : EMPTY)),
        throttleTime(LIST_CHANGED_INTERVAL_MS, this.scheduler, { leading: true, trailing: true }),
      )
      .subscribe(() => this.server.sendResourceListChanged());
  }
}
