import type { JobState } from './job-state.js';

/**
 * Finished jobs, newest last, capped: memory stays bounded however long the server runs.
 * Entries are compacted (per-node progress dropped) because nobody needs it after the end.
 */
export class RecentJobs {
  private readonly jobs = new Map<string, JobState>();

  constructor(private readonly limit: number) {}

  add(state: JobState): void {
    this.jobs.delete(state.promptId);
    // Same keys in the same order (a spread, not a rest-and-add): the reducer sees one shape.
    this.jobs.set(state.promptId, { ...state, nodes: {} });
    while (this.jobs.size > this.limit) {
      const oldest = this.jobs.keys().next().value as string;
      this.jobs.delete(oldest);
    }
  }

  get(promptId: string): JobState | undefined {
    return this.jobs.get(promptId);
  }

  /** Newest first. */
  list(limit = this.limit): JobState[] {
    return [...this.jobs.values()].reverse().slice(0, limit);
  }

  get size(): number {
    return this.jobs.size;
  }
}
