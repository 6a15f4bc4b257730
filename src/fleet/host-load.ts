/**
 * How busy one host is and how fast it runs, as dispatch reads it: the queue length from the
 * host's own `status` broadcasts (everyone's jobs) against comfywire's own jobs there (counted at
 * dispatch, so a burst of submissions spreads before the broadcasts catch up), seconds per job as
 * a moving average per workflow, the model it will have loaded, and what a model switch costs it.
 */

/** Weight of the newest run in the moving averages. */
const ALPHA = 0.3;

const ewma = (old: number | undefined, sample: number): number => (old === undefined ? sample : old + ALPHA * (sample - old));

export class HostLoad {
  /** queue_remaining of the host's latest status broadcast (running + pending, every client's). */
  statusQueue = 0;
  /** comfywire's jobs sent here whose run is not over yet. */
  ours = 0;
  /** Jobs sent here by this process, all told (spreads ties). */
  dispatched = 0;
  /** The checkpoint of the last job comfywire sent here: what the host will have loaded once its queue drains. */
  queuedCheckpoint: string | undefined;
  /** The checkpoint of the last job seen starting here: what the host has loaded now. */
  loadedCheckpoint: string | undefined;
  private readonly perWorkflow = new Map<string, number>();
  private overall: number | undefined;
  private switchCost: number | undefined;
  /** Workflows whose average so far comes only from runs that loaded a model. */
  private readonly provisional = new Set<string>();
  private overallProvisional = false;

  /** The host reconnected: it may have restarted, its models unloaded. */
  forgetModel(): void {
    this.queuedCheckpoint = undefined;
    this.loadedCheckpoint = undefined;
  }

  /** Jobs ahead of a new one: the broadcast figure, or ours when the broadcast is behind. */
  queueLength(): number {
    return Math.max(this.statusQueue, this.ours);
  }

  /** Measured seconds per job of this workflow, else of any workflow here; undefined before the first run. */
  secondsPerJob(workflow: string): number | undefined {
    return this.perWorkflow.get(workflow) ?? this.overall;
  }

  /** Measured seconds per job over every workflow here; undefined before the first run. */
  averageSeconds(): number | undefined {
    return this.overall;
  }

  /** Measured extra seconds of a run that had to load another checkpoint; undefined until seen. */
  modelSwitchSeconds(): number | undefined {
    return this.switchCost;
  }

  /** A job of ours starts running here: the host now has its checkpoint loaded. Returns whether that was a switch. */
  started(checkpoint: string | undefined): boolean {
    if (checkpoint === undefined) return false;
    const switched = this.loadedCheckpoint !== checkpoint;
    this.loadedCheckpoint = checkpoint;
    return switched;
  }

  /**
   * A run of ours ended successfully after `seconds` of running. A run that loaded another
   * checkpoint measures the switch (its excess over the workflow's average) when there is an
   * average to compare with; otherwise it seeds the average.
   */
  recordRun(workflow: string, seconds: number, switched: boolean): void {
    const baseline = this.perWorkflow.get(workflow);
    const provisional = this.provisional.has(workflow);
    if (switched && baseline !== undefined && !provisional) {
      this.switchCost = ewma(this.switchCost, Math.max(0, seconds - baseline));
      return;
    }
    if (switched && baseline === undefined) {
      // A first run that loaded its model seeds the average, load included, until a run without a
      // load replaces it: averaging the two would price every later switch low.
      this.provisional.add(workflow);
    } else if (!switched && provisional) {
      this.provisional.delete(workflow);
      this.perWorkflow.set(workflow, seconds);
      this.foldOverall(seconds, false);
      return;
    }
    this.perWorkflow.set(workflow, ewma(baseline, seconds));
    this.foldOverall(seconds, switched);
  }

  /** The all-workflow average, under the same rule: a value seeded by a load is replaced, not averaged. */
  private foldOverall(seconds: number, switched: boolean): void {
    if (this.overall === undefined || (this.overallProvisional && !switched)) {
      this.overall = seconds;
      this.overallProvisional = switched;
      return;
    }
    if (switched && !this.overallProvisional) return;
    this.overall = ewma(this.overall, seconds);
  }
}
