import { map, merge, type Observable, type Subscription } from 'rxjs';
import type { Config } from '../config.js';
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import type { CancelOutcome, ComfyEngine, ComfyReads, EngineCounts, EngineHost, SubmitOptions } from '../engine-api.js';
import type { EngineOptions } from '../engine.js';
import { ComfyUnreachableError, NoEligibleHostError, describeError, type ComfywireError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { checkJobCap } from '../jobs/job-cap.js';
import type { ComfyEvent } from '../../streams/messages.js';
import type { JobState } from '../../streams/job-state.js';
import type { JobHandle } from '../../streams/tracked-job.js';
import type { Decision, DispatchRequest } from './dispatch.js';
import { FleetJob, lossText } from './fleet-job.js';
import { FleetReads } from './fleet-reads.js';
import { createHost, hostStatus, watchHost, type Host } from './host.js';
import { mergeObjectInfo } from './merge-object-info.js';
import { Placement } from './placement.js';
import { promptNeeds, type PromptNeeds } from './prompt-needs.js';

export type { Host } from './host.js';
export { FIRST_CONNECT_WAIT_MS } from './placement.js';

/**
 * Several ComfyUI hosts behind one ComfyEngine: one Engine (socket, router, tracker, policies) per
 * host (host.ts), and above them dispatch (placement.ts) and the job registry. Each job lives in
 * its host's engine (its state names the host); with failover on, callers hold FleetJobs that can
 * move when their host loses them (fleet-job.ts), and `movedTo` remembers where a moved job went.
 * With one host it is a pass-through to that host's engine.
 */

export interface FleetOptions extends Omit<EngineOptions, 'config' | 'hostName'> {
  config: Readonly<Config>;
  /** Makes each host's engine (tests pass socket factories through EngineOptions instead). */
  logger?: Logger;
}

/** Key of the moving averages for a prompt submitted without a template name. */
const RAW_PROMPT = '(prompt)';

export class Fleet implements ComfyEngine {
  readonly config: Readonly<Config>;
  readonly hosts: readonly Host[];
  readonly comfy: ComfyReads;
  readonly events$: Observable<ComfyEvent>;
  /** Every decoded event with the name of the host that sent it (tail, the feed). */
  readonly hostEvents$: Observable<{ host: string; event: ComfyEvent }>;
  private readonly byName = new Map<string, Host>();
  private readonly logger: Logger;
  /** Jobs in flight that may move (failover on): callers hold these, not the host's. */
  private readonly movable = new Map<string, FleetJob>();
  /** Where each recent job ended up, when it moved (its first host still lists it as lost). */
  private readonly movedTo = new Map<string, string>();
  private readonly subscriptions: Subscription[] = [];
  private readonly placement: Placement;
  /** The last merged /object_info and the host answers it was made from. */
  private merged: { from: ObjectInfo[]; info: ObjectInfo } | undefined;
  /** Submissions past the job cap check that no host has tracked yet. */
  private placing = 0;
  private hostHandles: EngineHost[] | undefined;
  private started = false;

  constructor(options: FleetOptions) {
    const { config, ...engineOptions } = options;
    this.config = config;
    this.logger = options.logger ?? silentLogger();
    this.hosts = config.hosts.map((spec) => createHost(spec, config, engineOptions));
    this.placement = new Placement(this.hosts, () => this.waitUntilOpen(), this.logger);
    for (const h of this.hosts) this.byName.set(h.spec.name, h);
    this.events$ = this.hosts.length === 1 ? this.hosts[0]!.engine.events$ : merge(...this.hosts.map((h) => h.engine.events$));
    this.hostEvents$ = merge(...this.hosts.map((h) => h.engine.events$.pipe(map((event) => ({ host: h.spec.name, event })))));
    this.comfy = this.hosts.length === 1 ? this.hosts[0]!.engine.client : new FleetReads(this);
  }

  get single(): boolean {
    return this.hosts.length === 1;
  }

  host(name: string): Host | undefined {
    return this.byName.get(name);
  }

  start(): this {
    if (this.started) return this;
    this.started = true;
    for (const h of this.hosts) {
      h.engine.start();
      this.subscriptions.push(...watchHost(h, !this.single));
    }
    return this;
  }

  /** Every host, in configuration order, with its reads and its status. */
  hostList(): readonly EngineHost[] {
    return (this.hostHandles ??= this.hosts.map((h) => ({
      name: h.spec.name,
      url: h.spec.url,
      comfy: h.engine.client,
      status: () => hostStatus(h),
    })));
  }

  /** The host that has (or last had) this job, when this process submitted it. */
  hostOf(promptId: string): Host | undefined {
    const moved = this.movedTo.get(promptId);
    if (moved !== undefined) return this.byName.get(moved);
    const handle = this.movable.get(promptId);
    const name = handle?.attempt.state.host;
    if (name !== undefined) return this.byName.get(name);
    return this.hosts.find((h) => h.engine.jobState(promptId) !== undefined);
  }

  /** /object_info of every host merged (merge-object-info.ts); hosts that do not answer are left out. */
  async objectInfo(): Promise<ObjectInfo> {
    if (this.single) return this.hosts[0]!.engine.objectInfo();
    this.start();
    // A fleet just started: hosts still connecting would be missing from the merge.
    await this.placement.firstConnectsSettled();
    const reads = await Promise.allSettled(this.hosts.filter((h) => h.engine.connection.state === 'open').map((h) => h.engine.objectInfo()));
    const infos = reads.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (infos.length > 0) {
      // Each host's answer is cached by its engine: the same answers merge to the same result.
      const last = this.merged;
      if (last && last.from.length === infos.length && last.from.every((info, i) => info === infos[i])) return last.info;
      const info = mergeObjectInfo(infos);
      this.merged = { from: infos, info };
      return info;
    }
    const failed = reads.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // No host is up: the first one's own read says why (unreachable, auth refused...).
    return this.hosts[0]!.engine.objectInfo();
  }

  job(promptId: string): JobHandle | undefined {
    return this.movable.get(promptId) ?? this.hostOf(promptId)?.engine.job(promptId);
  }

  jobState(promptId: string): JobState | undefined {
    return this.movable.get(promptId)?.state ?? this.hostOf(promptId)?.engine.jobState(promptId);
  }

  inFlight(): JobHandle[] {
    const jobs: JobHandle[] = [];
    const seen = new Set<string>();
    for (const job of this.movable.values()) {
      jobs.push(job);
      seen.add(job.promptId);
    }
    for (const h of this.hosts) for (const job of h.engine.inFlight()) if (!seen.has(job.promptId)) jobs.push(job);
    return jobs.sort((a, b) => a.state.submittedAt - b.state.submittedAt);
  }

  recent(limit?: number): JobState[] {
    if (this.single) return this.hosts[0]!.engine.recent(limit);
    // A job that moved is listed by the host that lost it too: only its last host's entry counts.
    const all = this.hosts.flatMap((h) =>
      h.engine.recent().filter((s) => {
        const moved = this.movedTo.get(s.promptId);
        return moved === undefined || moved === h.spec.name;
      }),
    );
    all.sort((a, b) => (b.endedAt ?? b.submittedAt) - (a.endedAt ?? a.submittedAt));
    return all.slice(0, limit ?? this.config.recentJobs);
  }

  counts(): EngineCounts {
    const all = this.hosts.map((h) => h.engine.counts());
    const sum = (k: keyof EngineCounts): number => all.reduce((n, c) => n + (c[k] ?? 0), 0);
    const sumMaybe = (k: 'socketListeners' | 'httpConnections'): number | undefined =>
      all.every((c) => c[k] === undefined) ? undefined : sum(k);
    return {
      jobsInFlight: sum('jobsInFlight'),
      recentJobs: sum('recentJobs'),
      promptRoutes: sum('promptRoutes'),
      downloads: sum('downloads'),
      noDownloadMarks: sum('noDownloadMarks'),
      eventSubscribers: sum('eventSubscribers'),
      stateSubscribers: sum('stateSubscribers'),
      socketListeners: sumMaybe('socketListeners'),
      httpConnections: sumMaybe('httpConnections'),
    };
  }

  async submit(prompt: ApiPrompt, options: SubmitOptions = {}): Promise<JobHandle> {
    this.start();
    if (this.single) {
      const only = this.hosts[0]!;
      if (options.host !== undefined && options.host !== only.spec.name) {
        throw new NoEligibleHostError(`There is no ComfyUI host named "${options.host.slice(0, 64)}"; the only host is ${only.spec.name}.`);
      }
      const missing = (options.tags ?? []).filter((t) => !only.spec.tags.includes(t));
      if (missing.length > 0) {
        throw new NoEligibleHostError(`No ComfyUI host can run this prompt: ${only.spec.name} not tagged ${missing[0]!.slice(0, 64)}.`);
      }
      return only.engine.submit(prompt, options);
    }
    // The process cap counts every host's jobs (each engine only sees its own), and the jobs still
    // being placed: checked and counted in one synchronous step, so a burst cannot all pass it.
    checkJobCap(this.inFlight(), this.config.limits.maxActiveJobs, this.placing);
    const needs = promptNeeds(prompt);
    const workflow = options.workflow ?? RAW_PROMPT;
    const request: DispatchRequest = { needs, workflow, ...(options.host !== undefined ? { host: options.host } : {}), ...(options.tags ? { tags: options.tags } : {}) };
    this.placing++;
    let first: JobHandle;
    try {
      first = await this.placement.place(prompt, needs, request, options);
    } finally {
      this.placing--;
    }
    if (this.config.failover !== 'requeue') return first;
    const job = new FleetJob(
      first,
      (lost) => this.redispatch(prompt, needs, request, options, lost),
      (attempt) => void this.cancelOn(attempt).catch(() => undefined),
    );
    this.movable.set(job.promptId, job);
    void job.done.then(() => this.movable.delete(job.promptId));
    return job;
  }

  async cancel(promptId: string): Promise<CancelOutcome> {
    const moving = this.movable.get(promptId);
    if (moving?.cancelMoving()) return 'dequeued';
    const host = this.hostOf(promptId);
    if (host) return host.engine.cancel(promptId);
    if (this.single) return this.hosts[0]!.engine.cancel(promptId);
    // Not ours: whichever host knows the prompt (another client's) takes the cancel.
    for (const h of this.hosts.filter((x) => x.engine.connection.state === 'open')) {
      const outcome = await h.engine.cancel(promptId).catch(() => 'unknown' as const);
      if (outcome !== 'unknown') return outcome;
    }
    return 'unknown';
  }

  /** Stops the downloads of a settling job (on its host). */
  async stopDownloads(promptId: string, reason: ComfywireError): Promise<JobState | undefined> {
    const host = this.hostOf(promptId) ?? this.hosts[0]!;
    const state = await host.engine.stopDownloads(promptId, reason);
    return this.movable.get(promptId) ? this.movable.get(promptId)!.done : state;
  }

  /** Resolves once at least one host's socket is open. */
  async waitUntilOpen(timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    if (this.single) return this.hosts[0]!.engine.waitUntilOpen(timeoutMs);
    this.start();
    try {
      await Promise.any(this.hosts.map((h) => h.engine.waitUntilOpen(timeoutMs)));
    } catch (err) {
      const errors = err instanceof AggregateError ? err.errors : [err];
      throw new ComfyUnreachableError(this.config.comfyUrl, {
        message: `No ComfyUI host is reachable: ${this.hosts.map((h, i) => `${h.spec.name} (${describeError(errors[i]).split('\n')[0]})`).join('; ')}.`,
        hint: 'Start ComfyUI on at least one host, or check COMFYUI_URLS / COMFYWIRE_HOSTS_FILE; `comfywire doctor` checks every host.',
      });
    }
  }

  async close(): Promise<void> {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    await Promise.all(this.hosts.map((h) => h.engine.close()));
  }

  /** Dispatch decision over the hosts as they are now (bench/dispatch.ts times it). */
  decide(request: DispatchRequest): Decision {
    return this.placement.decide(request);
  }

  /** A movable loss: place the job again under its own id, on another host where there is one. */
  private async redispatch(
    prompt: ApiPrompt,
    needs: PromptNeeds,
    request: DispatchRequest,
    options: SubmitOptions,
    lost: JobState,
  ): Promise<{ attempt: JobHandle } | { refused: string }> {
    const from = lost.host ?? '?';
    const again: SubmitOptions = { ...options, promptId: lost.promptId, submittedAt: lost.submittedAt };
    const note = `re-dispatched: ${lossText(lost.host)}`;
    // A host that just lost its queue is trusted last: another eligible host first.
    const elsewhere: DispatchRequest = { ...request, exclude: new Set([from]) };
    const pinned = request.host !== undefined;
    const canElsewhere = !pinned && this.placement.decide(elsewhere).ok;
    try {
      const attempt = await this.placement.place(prompt, needs, canElsewhere ? elsewhere : request, again, note);
      if (attempt.state.host !== from) this.movedTo.set(lost.promptId, attempt.state.host ?? from);
      this.trimMoved();
      this.logger.info(`job ${lost.promptId}: ${attempt.state.dispatch ?? note}`);
      return { attempt };
    } catch (err) {
      return { refused: describeError(err).split('\n')[0]! };
    }
  }

  private async cancelOn(attempt: JobHandle): Promise<void> {
    const host = attempt.state.host !== undefined ? this.byName.get(attempt.state.host) : undefined;
    await host?.engine.cancel(attempt.promptId);
  }

  /** The moved-jobs map keeps as many entries as the recent jobs do. */
  private trimMoved(): void {
    const cap = this.config.recentJobs;
    while (this.movedTo.size > cap) this.movedTo.delete(this.movedTo.keys().next().value!);
  }
}
