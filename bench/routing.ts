import { randomUUID } from 'node:crypto';
import { Subject } from 'rxjs';
import { parseFrame } from '../streams/parse-frame.js';
import type { ComfyEvent } from '../streams/messages.js';
import { PromptRouter } from '../streams/prompt-router.js';
import { JobTracker } from '../streams/job-tracker.js';
import { SD15_PROMPT, endFrames, startFrames, stepFrames } from './synthetic-frames.js';
import { gc, type Figure } from './table.js';

/**
 * Messages routed per second with 1,000 jobs in flight: raw text frames through the real parse
 * (zod), the router and each job's reducer, on this one thread. Frames of all jobs interleave,
 * as they would if many prompts were tracked at once.
 */
const WARMUP_STEPS = 10;

export async function benchRouting(jobsInFlight = 1000, stepsPerJob = 60): Promise<Figure[]> {
  const events$ = new Subject<ComfyEvent>();
  const tracker = new JobTracker({ router: new PromptRouter(events$), recentLimit: 200 });
  const ids = Array.from({ length: jobsInFlight }, () => randomUUID());
  for (const id of ids) tracker.track(id, { prompt: SD15_PROMPT });
  const feed = (text: string) => {
    const e = parseFrame(text);
    if (e) events$.next(e);
  };
  for (const id of ids) for (const f of startFrames(id)) feed(f);

  // Pre-build the frames so the measurement is the engine, not JSON.stringify; the first steps
  // warm the JIT and are not timed (a long-running server is always warm).
  const warmup: string[] = [];
  const frames: string[] = [];
  for (let step = 1; step <= stepsPerJob; step++) {
    for (const id of ids) (step <= WARMUP_STEPS ? warmup : frames).push(...stepFrames(id, step, stepsPerJob));
  }
  for (const f of warmup) feed(f);
  gc();
  const t0 = process.hrtime.bigint();
  for (const f of frames) feed(f);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

  let n = 0;
  for (const id of ids) for (const f of endFrames(id, n++)) feed(f);
  await Promise.all(ids.map((id) => tracker.active(id)?.done));
  return [
    {
      name: `messages routed/s, ${jobsInFlight} jobs in flight`,
      value: frames.length / seconds,
      unit: 'msg/s',
      target: { op: '>=', value: 100_000 },
      note: `${frames.length.toLocaleString('en-US')} frames: parse + route + reduce`,
    },
  ];
}
