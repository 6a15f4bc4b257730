import type { Transcript, TranscriptEvent } from './transcript.js';

/**
 * Where a recording acted (HTTP request, socket open/close) between two progress steps of a
 * running prompt, the replay holds the server's node before the next step until it has done the
 * same, so the run's later frames come after the action's effects, as recorded, however slow the
 * machine is. ComfyUI's steps are timed by the node, so a held step is only a slower one.
 */
export interface PlannedHold {
  /** Recorded prompt id, node and the step value to hold before. */
  prompt: string;
  nodeId: string;
  value: number;
  /** Index of the last recorded action that needs the hold: released before any later action. */
  releaseAfter: number;
  /** A socket opening at this index first hears of the prompt at the held step: it joined mid-run. */
  joinAt?: number;
}

type Data = Record<string, unknown> & { prompt_id?: string };

function isEndOfRun(e: TranscriptEvent): boolean {
  const d = e.data as Data;
  return ['execution_success', 'execution_error', 'execution_interrupted'].includes(e.type ?? '') || (e.type === 'executing' && d.node === null);
}

/** The step value of a recorded frame for this node, if it reports one of its running steps. */
function stepValue(e: TranscriptEvent, nodeId: string): number | undefined {
  const d = e.data as Data;
  if (e.type === 'progress' && String(d.node) === nodeId) return d.value as number;
  const node = (d.nodes as Record<string, { state: string; value: number }> | undefined)?.[nodeId];
  return e.type === 'progress_state' && node?.state === 'running' && node.value > 0 ? node.value : undefined;
}

const isText = (e: TranscriptEvent): boolean => e.source === 'ws' && e.kind === 'text';
const isAction = (e: TranscriptEvent): boolean => e.source === 'http' || (e.source === 'ws' && (e.kind === 'open' || e.kind === 'close'));

export function planStepHolds(t: Transcript): PlannedHold[] {
  const plans = new Map<string, PlannedHold>();
  let last: { prompt: string; nodeId: string; value: number } | undefined;
  for (const [i, e] of t.events.entries()) {
    const d = e.data as Data;
    if (isText(e)) {
      if (e.type === 'progress' && d.prompt_id) last = { prompt: d.prompt_id, nodeId: String(d.node), value: d.value as number };
      else if (last && d?.prompt_id === last.prompt && isEndOfRun(e)) last = undefined;
      continue;
    }
    if (!last || !isAction(e)) continue;
    const running = last;
    const nextAt = t.events.findIndex((n, j) => j > i && isText(n) && (n.data as Data)?.prompt_id === running.prompt);
    if (nextAt < 0) continue;
    const next = t.events[nextAt]!;
    // The action came right after the last step anyone heard (an interrupt lands in the next step's
    // callback), except for a socket that joins and first hears a later step: the steps between
    // went to no socket, so it joined just before that one.
    const join = e.kind === 'open' && next.client === e.client;
    const value = (join ? stepValue(next, running.nodeId) : undefined) ?? running.value + 1;
    const key = `${running.prompt}/${running.nodeId}/${value}`;
    const plan = plans.get(key) ?? { prompt: running.prompt, nodeId: running.nodeId, value, releaseAfter: i };
    plan.releaseAfter = i;
    if (join) plan.joinAt = i;
    plans.set(key, plan);
  }
  return [...plans.values()];
}

/** What the replay needs from the simulator's faults. */
export interface ReplayFaults {
  pauseWorker(): void;
  resumeWorker(): void;
  holdStep(match: { promptId: string; nodeId: string; value: number }): { reached: Promise<void>; release(): void };
}

/** How long a socket that joins mid-run waits for the server to reach the held step. */
const REACH_TIMEOUT_MS = 15_000;

/**
 * The replay's hands on the server: the planned step holds, and the worker, held while a prompt's
 * step holds are armed (so none of its steps can pass before) and, for recordings that queued
 * several prompts before the worker took the first, until that many POST /prompt were answered.
 */
export class ServerHolds {
  private readonly plans: PlannedHold[];
  private readonly armed = new Map<PlannedHold, { reached: Promise<void>; release(): void }>();
  private posts = 0;
  private workerPaused = false;

  constructor(t: Transcript, private readonly faults?: ReplayFaults, private readonly holdWorkerUntilPosts = 0) {
    this.plans = faults ? planStepHolds(t) : [];
  }

  start(): void {
    this.setWorkerPaused(this.posts < this.holdWorkerUntilPosts);
  }

  /** Before a recorded action: steps recorded before it may go on now. */
  beforeAction(index: number): void {
    for (const [plan, hold] of this.armed) {
      if (plan.releaseAfter >= index) continue;
      hold.release();
      this.armed.delete(plan);
    }
  }

  /** Before a socket that joined mid-run connects: wait until the server waits at that step. */
  async beforeJoin(index: number): Promise<void> {
    for (const [plan, hold] of this.armed) {
      if (plan.joinAt !== index) continue;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), REACH_TIMEOUT_MS)));
      const outcome = await Promise.race([hold.reached, late]).finally(() => clearTimeout(timer));
      if (outcome === 'late') throw new Error(`the server did not reach step ${plan.value} of node ${plan.nodeId} within ${REACH_TIMEOUT_MS} ms`);
    }
  }

  beforePost(recordedPrompt: string | undefined): void {
    if (this.plans.some((p) => p.prompt === recordedPrompt)) this.setWorkerPaused(true);
  }

  afterPost(recordedPrompt: string | undefined, ourPrompt: string | undefined): void {
    this.posts += 1;
    if (ourPrompt && this.faults) {
      for (const plan of this.plans.filter((p) => p.prompt === recordedPrompt)) {
        this.armed.set(plan, this.faults.holdStep({ promptId: ourPrompt, nodeId: plan.nodeId, value: plan.value }));
      }
    }
    this.setWorkerPaused(this.posts < this.holdWorkerUntilPosts);
  }

  end(): void {
    for (const hold of this.armed.values()) hold.release();
    this.armed.clear();
    this.setWorkerPaused(false);
  }

  private setWorkerPaused(paused: boolean): void {
    if (!this.faults || paused === this.workerPaused) return;
    this.workerPaused = paused;
    if (paused) this.faults.pauseWorker();
    else this.faults.resumeWorker();
  }
}
