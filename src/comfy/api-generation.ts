/**
 * What a ComfyUI server's API offers beyond 0.3.64 (docs/comfyui-api-generations.md), learnt per
 * connection: a server that comes back after a reconnect may be another version (an upgrade, a
 * different process behind the same URL), so `forget()` is called on every reconnect.
 *   - the jobs API (GET /api/jobs, /api/jobs/{id}; ComfyUI PR #11054): asked once with
 *     GET /api/jobs?limit=1 -- no /features flag names it; an older server answers 404;
 *   - targeted cancel (POST /api/jobs/{id}/cancel; PR #14493, later than the jobs API, so the
 *     jobs API says nothing about it): learnt from the first cancel itself, which an older
 *     server answers 404 (405 behind aiohttp's catch-all static route).
 * A failed probe (ComfyUI down) is not remembered: the next call asks again.
 */
export class ApiGeneration {
  private jobs: Promise<boolean> | undefined;
  private cancel: boolean | undefined;

  constructor(private readonly probeJobs: () => Promise<boolean>) {}

  /** Whether GET /api/jobs/{id} answers; asked at most once per connection. */
  hasJobsApi(): Promise<boolean> {
    if (!this.jobs) {
      const asked = this.probeJobs();
      this.jobs = asked;
      asked.catch(() => {
        if (this.jobs === asked) this.jobs = undefined;
      });
    }
    return this.jobs;
  }

  /** undefined until a cancel found out. */
  get targetedCancel(): boolean | undefined {
    return this.cancel;
  }

  set targetedCancel(present: boolean | undefined) {
    this.cancel = present;
  }

  forget(): void {
    this.jobs = undefined;
    this.cancel = undefined;
  }
}
