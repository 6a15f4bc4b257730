import { filter, firstValueFrom, race, timer } from 'rxjs';
import type { ApiPrompt } from '../comfy/types.js';
import type { SubmitOptions } from '../engine-api.js';
import { NoEligibleHostError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { JobHandle } from '../../streams/tracked-job.js';
import { decide, type Decision, type DispatchRequest, type HostView } from './dispatch.js';
import type { Host } from './host.js';
import type { PromptNeeds } from './prompt-needs.js';

/**
 * Putting a job on a host: wait until the fleet can judge (first connections, catalogs), decide
 * (dispatch.ts), submit to the chosen host's engine, and keep that host's load figures as the job
 * goes (queued there, its run's start and model, its duration).
 */

/** How long the first dispatch waits for every host's first connection attempt to settle. */
export const FIRST_CONNECT_WAIT_MS = 2_000;

export class Placement {
  private firstConnects: Promise<void> | undefined;

  constructor(
    private readonly hosts: readonly Host[],
    /** Resolves once some host is up; throws naming each host's state otherwise. */
    private readonly someHostUp: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** The decision over the hosts as they are now (bench/dispatch.ts times it). */
  decide(request: DispatchRequest): Decision {
    return decide(this.views(), request);
  }

  views(): HostView[] {
    return this.hosts.map((h) => ({
      name: h.spec.name,
      up: h.engine.connection.state === 'open',
      state: h.engine.connection.state,
      weight: h.spec.weight,
      tags: h.spec.tags,
      draining: h.spec.drain,
      catalog: h.catalog.peek(),
      load: h.load,
    }));
  }

  /**
   * Before deciding: every host's first connection attempt has had its chance (a fleet that just
   * started must not send everything to the host that answered first), at least one host is up,
   * and each host that is up has its catalog read.
   */
  async ready(request: DispatchRequest): Promise<void> {
    await this.firstConnectsSettled();
    const pinned = request.host !== undefined ? this.hosts.find((h) => h.spec.name === request.host) : undefined;
    if (pinned) {
      if (pinned.engine.connection.state === 'open') await pinned.catalog.get();
      return;
    }
    if (!this.hosts.some((h) => h.engine.connection.state === 'open')) await this.someHostUp();
    await Promise.all(this.hosts.filter((h) => h.engine.connection.state === 'open').map((h) => h.catalog.get()));
  }

  /** Every host's first connection attempt has ended (open or failed), or FIRST_CONNECT_WAIT_MS passed. */
  firstConnectsSettled(): Promise<void> {
    return (this.firstConnects ??= Promise.all(
      this.hosts.map((h) =>
        firstValueFrom(race(h.engine.connection.state$.pipe(filter((s) => s !== 'connecting')), timer(FIRST_CONNECT_WAIT_MS)), { defaultValue: undefined }),
      ),
    ).then(() => undefined));
  }

  /** Decide, then submit to the chosen host, keeping its load figures as the job goes. */
  async place(prompt: ApiPrompt, needs: PromptNeeds, request: DispatchRequest, options: SubmitOptions, note?: string): Promise<JobHandle> {
    await this.ready(request);
    const decision = decide(this.views(), request);
    if (!decision.ok) {
      throw new NoEligibleHostError(decision.reason, {
        context: { rejected: decision.rejected },
      });
    }
    const host = this.hosts.find((h) => h.spec.name === decision.host)!;
    // Counted before the POST, synchronously after the decision: a burst of submissions sees each
    // other's placements before ComfyUI's status broadcasts catch up.
    host.load.ours++;
    host.load.dispatched++;
    if (needs.checkpoint !== undefined) host.load.queuedCheckpoint = needs.checkpoint;
    const dispatch = note ? `${note}; ${decision.reason}` : decision.reason;
    let job: JobHandle;
    try {
      job = await host.engine.submit(prompt, { ...options, dispatch });
    } catch (err) {
      host.load.ours--;
      throw err;
    }
    this.logger.debug(`job ${job.promptId} ${dispatch}`);
    this.measure(host, job, needs, request.workflow);
    return job;
  }

  /** Follows a placed job on its host: its run's start (the model it loads) and end (its duration, the queue it leaves). */
  private measure(host: Host, job: JobHandle, needs: PromptNeeds, workflow: string): void {
    let switched = false;
    let started = false;
    const sub = job.states$.subscribe((s) => {
      if (!started && s.startedAt !== undefined) {
        started = true;
        switched = host.load.started(needs.checkpoint);
      }
      if (s.endedBy === undefined && !s.settled) return;
      sub?.unsubscribe();
      host.load.ours--;
      if (s.status === 'success' && s.startedAt !== undefined && s.endedAt !== undefined) {
        host.load.recordRun(workflow, (s.endedAt - s.startedAt) / 1000, switched);
      }
    });
    if (job.state.endedBy !== undefined || job.state.settled) sub.unsubscribe();
  }
}
