import { isObject, readOptionalJson, sendJson } from '../http-util.js';
import { historyJob, JOB_STATUSES, queuedJob, type JobDict, type JobStatus } from '../jobs-view.js';
import type { SimContext } from '../context.js';
import type { Route } from './route.js';

/**
 * The jobs routes of today's ComfyUI (server.py: get_jobs, get_job_by_id, cancel_job_by_id,
 * cancel_jobs_batch; comfy_execution/jobs.py), served only in the simulator's 'latest' mode
 * and only under /api (ComfyUI registers them as "/api/jobs...", so a bare /jobs is a 404 there).
 */

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PY_INT = /^\s*[-+]?\d+\s*$/;

function allJobs(ctx: SimContext, wanted: ReadonlySet<JobStatus>): JobDict[] {
  const jobs: JobDict[] = [];
  const running = ctx.queue.running;
  if (running && wanted.has('in_progress')) jobs.push(queuedJob(running, 'in_progress'));
  if (wanted.has('pending')) for (const item of ctx.queue.pending) jobs.push(queuedJob(item, 'pending'));
  for (const [id, entry] of Object.entries(ctx.history.list())) {
    const job = historyJob(id, entry);
    if (wanted.has(job.status)) jobs.push(job);
  }
  return jobs;
}

function sortKey(job: JobDict, by: string): number {
  if (by === 'execution_duration') {
    const start = Number(job['execution_start_time'] ?? 0);
    const end = Number(job['execution_end_time'] ?? 0);
    return start && end ? end - start : 0;
  }
  return Number(job['create_time'] ?? 0);
}

function jobById(ctx: SimContext, id: string): JobDict | undefined {
  const entry = ctx.history.get(id);
  if (entry) return historyJob(id, entry, true);
  const running = ctx.queue.running;
  if (running?.promptId === id) return queuedJob(running, 'in_progress', true);
  const pending = ctx.queue.pending.find((item) => item.promptId === id);
  return pending && queuedJob(pending, 'pending', true);
}

/** True when a cancel was dispatched (a running job interrupted, a pending one dequeued). */
function cancelJob(ctx: SimContext, id: string): boolean {
  if (ctx.queue.pending.some((item) => item.promptId === id)) {
    ctx.queue.delete(id);
    return true;
  }
  if (ctx.queue.running?.promptId === id) {
    ctx.executor.interrupt(id);
    return true;
  }
  return false; // finished or unknown: a no-op, not an error
}

export const jobsRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/jobs$/,
    handle({ res, url, ctx }) {
      const q = url.searchParams;
      const statusParam = q.get('status');
      let wanted = new Set<JobStatus>(JOB_STATUSES);
      if (statusParam) {
        const asked = statusParam.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
        const invalid = asked.filter((s) => !(JOB_STATUSES as readonly string[]).includes(s));
        if (invalid.length) {
          return sendJson(res, 400, { error: `Invalid status value(s): ${invalid.join(', ')}. Valid values: ${JOB_STATUSES.join(', ')}` });
        }
        wanted = new Set(asked as JobStatus[]);
      }
      const sortBy = (q.get('sort_by') ?? 'created_at').toLowerCase();
      const sortOrder = (q.get('sort_order') ?? 'desc').toLowerCase();
      if (sortBy !== 'created_at' && sortBy !== 'execution_duration') return sendJson(res, 400, { error: "sort_by must be 'created_at' or 'execution_duration'" });
      if (sortOrder !== 'asc' && sortOrder !== 'desc') return sendJson(res, 400, { error: "sort_order must be 'asc' or 'desc'" });
      let limit: number | null = null;
      if (q.has('limit')) {
        const text = q.get('limit') as string;
        if (!PY_INT.test(text)) return sendJson(res, 400, { error: 'limit must be an integer' });
        limit = Number(text);
        if (limit <= 0) return sendJson(res, 400, { error: 'limit must be a positive integer' });
      }
      let offset = 0;
      if (q.has('offset')) {
        const text = q.get('offset') as string;
        if (!PY_INT.test(text)) return sendJson(res, 400, { error: 'offset must be an integer' });
        offset = Math.max(0, Number(text));
      }
      const sign = sortOrder === 'desc' ? -1 : 1;
      // Array.prototype.sort is stable, like Python's sorted (also with reverse=True).
      const jobs = allJobs(ctx, wanted).sort((a, b) => sign * (sortKey(a, sortBy) - sortKey(b, sortBy)));
      const page = jobs.slice(offset, limit === null ? undefined : offset + limit);
      sendJson(res, 200, { jobs: page, pagination: { offset, limit, total: jobs.length, has_more: offset + page.length < jobs.length } });
    },
  },
  {
    method: 'POST',
    path: /^\/jobs\/cancel$/,
    async handle({ req, res, ctx }) {
      // Empty or malformed JSON both read as undefined (json.loads raises on either).
      const body = await readOptionalJson(req);
      if (body === undefined) return sendJson(res, 400, { error: 'Request body must be valid JSON' });
      const ids = isObject(body) ? body['job_ids'] : undefined;
      if (!Array.isArray(ids)) return sendJson(res, 400, { error: 'job_ids must be a list' });
      const invalid = ids.filter((id) => typeof id !== 'string' || !CANONICAL_UUID.test(id));
      if (invalid.length) {
        return sendJson(res, 400, { error: 'job_ids contains invalid id(s)', invalid_ids: invalid.map((id) => (typeof id === 'string' ? id : JSON.stringify(id))) });
      }
      let cancelled = false;
      for (const id of ids as string[]) if (cancelJob(ctx, id)) cancelled = true;
      sendJson(res, 200, { cancelled });
    },
  },
  {
    method: 'GET',
    path: /^\/jobs\/([^/]+)$/,
    handle({ res, params, ctx }) {
      const job = jobById(ctx, params[0] as string);
      if (!job) return sendJson(res, 404, { error: 'Job not found' });
      sendJson(res, 200, job);
    },
  },
  {
    method: 'POST',
    path: /^\/jobs\/([^/]+)\/cancel$/,
    handle({ res, params, ctx }) {
      sendJson(res, 200, { cancelled: cancelJob(ctx, params[0] as string) });
    },
  },
];
