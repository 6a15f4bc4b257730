import { randomUUID } from 'node:crypto';
import { Subject } from 'rxjs';
import { parseFrame } from '../streams/parse-frame.js';
import type { ComfyEvent } from '../streams/messages.js';
import { PromptRouter } from '../streams/prompt-router.js';
import { JobTracker } from '../streams/job-tracker.js';
import { SD15_PROMPT, endFrames, startFrames, stepFrames } from './synthetic-frames.js';
import { gc, type Figure } from './table.js';

/**
 * Heap retained per finished job: run 10,000 complete jobs through the stream layer and compare
 * the heap after a full GC with the heap before. Finished jobs must leave nothing behind but
 * their capped recent-jobs entry.
 */
export async function benchRetention(jobs = 10_000, recentLimit = 200): Promise<Figure[]> {
  const events$ = new Subject<ComfyEvent>();
  const router = new PromptRouter(events$);
  const tracker = new JobTracker({ router, recentLimit });
  const feed = (text: string) => {
    const e = parseFrame(text);
    if (e) events$.next(e);
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < jobs; i++) {
    const id = randomUUID();
    const job = tracker.track(id, { prompt: SD15_PROMPT });
    for (const f of startFrames(id)) feed(f);
    for (let s = 1; s <= 5; s++) for (const f of stepFrames(id, s, 5)) feed(f);
    for (const f of endFrames(id, i)) feed(f);
    await job.done;
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  const perJob = Math.max(0, after - before) / jobs;
  return [
    {
      name: `bytes retained per finished job (${jobs.toLocaleString('en-US')} jobs)`,
      value: perJob,
      unit: 'B',
      target: { op: '<=', value: 2048 },
      note: `active ${tracker.activeCount}, routes ${router.size}, recent kept ${tracker.recent().length} (cap ${recentLimit})`,
    },
  ];
}
