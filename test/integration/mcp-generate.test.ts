import { existsSync } from 'node:fs';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { INLINE_MAX_BYTES, INLINE_MAX_EDGE } from '../../src/mcp/inline-image.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';
import { postForeignPrompt } from '../helpers/prompts.js';
import { eventually } from '../helpers/wait.js';

/** generate_image end to end against the simulator: progress, inline images, bounded wait, cancellation. */


interface GenerateOut {
  prompt_id: string;
  status: string;
  seed?: number;
  duration_ms?: number;
  files: Array<{ path: string; kind: string; mime: string; uri: string; bytes: number }>;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 20 });
});
afterAll(async () => h.close());

/** Every prompt id this engine has seen, live or recent. */
function knownIds(): Set<string> {
  return new Set([...h.engine.jobs.activeJobs().map((j) => j.promptId), ...h.engine.jobs.recent().map((s) => s.promptId)]);
}

async function settledNewJob(before: Set<string>) {
  const id = await eventually(() => [...knownIds()].find((x) => !before.has(x)));
  return eventually(() => {
    const s = h.engine.jobs.get(id);
    return s?.settled ? s : undefined;
  });
}

test('renders, reports rising progress with the final one, and returns files, inline previews and links', async () => {
  const progress: Progress[] = [];
  const r = await h.call('generate_image', { prompt: 'a lighthouse at dusk', seed: 1234, steps: 12, width: 1024, height: 768 }, {
    onprogress: (p) => progress.push(p),
  });
  expect(r.isError).toBeFalsy();
  const out = r.structuredContent as unknown as GenerateOut;
  expect(out).toMatchObject({ status: 'success', seed: 1234 });
  expect(out.files.length).toBe(1);
  const file = out.files[0]!;
  expect(existsSync(file.path)).toBe(true);
  expect(file).toMatchObject({ kind: 'image', mime: 'image/png' });
  // The template saves into ComfyUI's comfywire/ subfolder: the URI carries it, encoded as one segment.
  expect(file.uri).toBe(`comfywire://outputs/${out.prompt_id}/comfywire%2F${encodeURIComponent(file.path.split('/').pop()!)}`);
  // Full size on disk, downscaled inline.
  expect((await sharp(file.path).metadata()).width).toBe(1024);
  const text = textOf(r);
  expect(text).toContain(out.prompt_id);
  expect(text).toContain('seed 1234');
  expect(text).toContain(file.path);
  const images = r.content.filter((c) => c.type === 'image');
  expect(images).toHaveLength(1);
  const inline = Buffer.from((images[0] as { data: string }).data, 'base64');
  expect(inline.length).toBeLessThanOrEqual(INLINE_MAX_BYTES);
  const meta = await sharp(inline).metadata();
  expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(INLINE_MAX_EDGE);
  expect(r.content.filter((c) => c.type === 'resource_link')).toEqual([
    expect.objectContaining({ uri: file.uri, mimeType: 'image/png', description: file.path }),
  ]);

  // Progress: strictly rising, node and step named while running, the final one at 100 of 100.
  expect(progress.length).toBeGreaterThan(2);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
  expect(progress.every((p) => p.total === 100)).toBe(true);
  expect(progress.some((p) => /running .*KSampler.* step \d+\/12/i.test(p.message ?? ''))).toBe(true);
  expect(progress.at(-1)).toMatchObject({ progress: 100, message: 'done' });
  // Coalesced: 12 steps of 20 ms cannot give more than ~10 per second plus the first and last.
  expect(progress.length).toBeLessThanOrEqual(Math.ceil((out.duration_ms! / 1000) * 10) + 3);
});

test('a batch inlines at most four images and links every file', async () => {
  const r = await h.call('generate_image', { prompt: 'tiles', steps: 2, width: 256, height: 256, batch_size: 6 });
  const out = r.structuredContent as unknown as GenerateOut;
  expect(out.files).toHaveLength(6);
  expect(r.content.filter((c) => c.type === 'image')).toHaveLength(4);
  expect(r.content.filter((c) => c.type === 'resource_link')).toHaveLength(6);
  expect(textOf(r)).toMatch(/4 of 6 images shown inline/);
});

test('no progress token, no notifications; a drawn seed is reported', async () => {
  const r = await h.call('generate_image', { prompt: 'quiet', steps: 2, width: 128, height: 128 });
  const out = r.structuredContent as unknown as GenerateOut;
  expect(typeof out.seed).toBe('number');
  expect(textOf(r)).toContain(`seed ${out.seed}`);
});

test('a render longer than timeout_s returns a handle, and the job still completes with its files', async () => {
  const r = await h.call('generate_image', { prompt: 'slow', steps: 40, width: 128, height: 128, timeout_s: 0.2 });
  expect(r.isError).toBeFalsy();
  const out = r.structuredContent as unknown as GenerateOut & { follow_up: string };
  expect(['queued', 'running']).toContain(out.status);
  expect(out.follow_up).toMatch(/get_workflow_status.*cancel_job/);
  expect(textOf(r)).toContain(out.prompt_id);
  const done = await eventually(async () => {
    const s = await h.call('get_workflow_status', { prompt_id: out.prompt_id });
    const job = (s.structuredContent as { job: { status: string; settled: boolean; files: Array<{ path: string }> } }).job;
    return job.status === 'success' && job.settled ? job : undefined;
  });
  expect(done.files).toHaveLength(1);
  expect(existsSync(done.files[0]!.path)).toBe(true);
});

test('wait: false returns the handle at once', async () => {
  const r = await h.call('generate_image', { prompt: 'later', steps: 3, width: 128, height: 128, wait: false });
  const out = r.structuredContent as unknown as GenerateOut;
  expect(['queued', 'running']).toContain(out.status);
  const job = await eventually(() => {
    const s = h.engine.jobs.get(out.prompt_id);
    return s?.settled ? s : undefined;
  });
  expect(job.status).toBe('success');
  expect(job.downloads).toHaveLength(1);
});

test('cancelling the call mid-run interrupts the job in ComfyUI', async () => {
  const before = knownIds();
  const controller = new AbortController();
  let running = false;
  const call = h.call('generate_image', { prompt: 'to be interrupted', steps: 150, width: 128, height: 128 }, {
    signal: controller.signal,
    onprogress: (p) => {
      if (!running && /step/.test(p.message ?? '')) {
        running = true;
        controller.abort();
      }
    },
  });
  await expect(call).rejects.toThrow();
  const final = await settledNewJob(before);
  expect(final.status).toBe('interrupted');
});

test('cancelling the call while queued removes it; the running job is untouched', async () => {
  const first = await h.call('generate_image', { prompt: 'occupies the queue', steps: 150, width: 128, height: 128, wait: false });
  const firstId = (first.structuredContent as unknown as GenerateOut).prompt_id;
  const before = knownIds();
  const controller = new AbortController();
  const call = h.call('generate_image', { prompt: 'waits behind it', steps: 2, width: 128, height: 128 }, {
    signal: controller.signal,
    onprogress: (p) => {
      if (/queued/.test(p.message ?? '')) controller.abort();
    },
  });
  await expect(call).rejects.toThrow();
  const final = await settledNewJob(before);
  expect(final.status).toBe('cancelled');
  expect(h.engine.jobs.get(firstId)?.status).toBe('running');

  const cancel = await h.call('cancel_job', { prompt_id: firstId });
  expect(cancel.structuredContent).toEqual({ prompt_id: firstId, outcome: 'interrupted' });
  expect(textOf(cancel)).toMatch(/interrupted/);
});

test('get_workflow_status follows a running job, and get_queue marks ours apart from a foreign prompt', async () => {
  const started = await h.call('generate_image', { prompt: 'watched', steps: 150, width: 128, height: 128, wait: false });
  const id = (started.structuredContent as unknown as GenerateOut).prompt_id;
  // A prompt from another client (no client_id), queued behind ours.
  const foreignId = await postForeignPrompt(h.sim.url);

  const job = await eventually(async () => {
    const r = await h.call('get_workflow_status', { prompt_id: id });
    const j = (r.structuredContent as { job: { status: string; current_node?: { class_type?: string; value?: number; max?: number }; progress: number; elapsed_ms?: number } }).job;
    return j.status === 'running' && (j.current_node?.value ?? 0) > 2 ? { j, text: textOf(r) } : undefined;
  });
  expect(job.j.current_node).toMatchObject({ class_type: 'KSampler', max: 150 });
  expect(job.j.progress).toBeGreaterThan(0);
  expect(job.j.elapsed_ms).toBeGreaterThan(0);
  expect(job.text).toMatch(/is running: \d+%, at node 3 .*KSampler.*step \d+\/150/);

  const q = await h.call('get_queue');
  const view = q.structuredContent as { running: Array<{ prompt_id: string; ours: boolean }>; pending: Array<{ prompt_id: string; ours: boolean; position: number }> };
  expect(view.running).toEqual([expect.objectContaining({ prompt_id: id, ours: true })]);
  expect(view.pending).toEqual([expect.objectContaining({ prompt_id: foreignId, ours: false, position: 1 })]);
  expect(textOf(q)).toMatch(/#0 .* running \(ours, sd15-txt2img\)/);

  const pendingForeign = await h.call('get_workflow_status', { prompt_id: foreignId });
  expect(pendingForeign.structuredContent).toMatchObject({ job: { status: 'queued', ours: false, queue_position: 1 } });

  expect((await h.call('cancel_job', { prompt_id: foreignId })).structuredContent).toMatchObject({ outcome: 'dequeued' });
  expect((await h.call('cancel_job', { prompt_id: id })).structuredContent).toMatchObject({ outcome: 'interrupted' });
});
