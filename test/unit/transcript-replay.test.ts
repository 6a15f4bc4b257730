import { Subject } from 'rxjs';
import { parseMessage, promptIdOf, type ComfyEvent } from '../../streams/messages.js';
import { accepted, history, settled, type HistoryLike, type JobFact } from '../../streams/job-facts.js';
import { PromptRouter } from '../../streams/prompt-router.js';
import { JobTracker } from '../../streams/job-tracker.js';
import { initialJobState, promptContext, reduceJob, type JobState } from '../../streams/job-state.js';
import type { ApiPrompt } from '../../src/comfy/types.js';
import { loadTranscript, transcriptNames, type Transcript } from '../helpers/fixtures.js';

/**
 * Feeds what a real ComfyUI sent to the submitting socket, frame by frame, through the stream
 * layer (router + tracker + reducer) and checks the job state it ends in against the history
 * entries the same server recorded.
 */

interface Submission {
  promptId: string;
  prompt: ApiPrompt;
  withClientId: boolean;
}

function submissions(t: Transcript): Submission[] {
  const out: Submission[] = [];
  for (const e of t.events) {
    if (e.source !== 'http' || e.method !== 'POST' || !e.path?.endsWith('/prompt') || e.status !== 200) continue;
    const req = e.request_body as { prompt: ApiPrompt; client_id?: string };
    out.push({ promptId: (e.body as { prompt_id: string }).prompt_id, prompt: req.prompt, withClientId: !!req.client_id });
  }
  return out;
}

/** The submitter's frames in order (both sockets of the reconnect scenario). */
function submitterEvents(t: Transcript): ComfyEvent[] {
  const events: ComfyEvent[] = [];
  for (const e of t.events) {
    if (e.source !== 'ws' || !e.client?.startsWith('submitter')) continue;
    if (e.kind === 'text') {
      const ev = parseMessage(e.type!, e.data);
      if (!ev) throw new Error(`recorded ${e.type} frame failed its schema: ${JSON.stringify(e.data).slice(0, 200)}`);
      events.push(ev);
    } else if (e.kind === 'binary' && e.binary?.['event_type'] === 4) {
      const meta = e.binary['metadata'] as { prompt_id: string; node_id: string };
      events.push({ type: 'preview', data: { frameType: 4, mimeType: 'image/jpeg', image: new Uint8Array(), promptId: meta.prompt_id, nodeId: meta.node_id } });
    }
  }
  return events;
}

function historyOf(t: Transcript, promptId: string): { outputs: Record<string, unknown>; status: { status_str: string; messages: [string, unknown][] } } | undefined {
  for (const e of t.events) {
    if (e.source === 'http' && e.method === 'GET' && e.path === `/history/${promptId}`) {
      const body = e.body as Record<string, never>;
      return body[promptId];
    }
  }
  return undefined;
}

function expectedStatus(entry: NonNullable<ReturnType<typeof historyOf>>): JobState['status'] {
  const last = entry.status.messages.at(-1)?.[0];
  if (last === 'execution_success') return 'success';
  if (last === 'execution_interrupted') return 'interrupted';
  return 'error';
}

async function replay(name: string): Promise<{ t: Transcript; subs: Submission[]; states: Map<string, JobState>; tracker: JobTracker }> {
  const t = loadTranscript(name);
  const events$ = new Subject<ComfyEvent>();
  const router = new PromptRouter(events$);
  const tracker = new JobTracker({ router, recentLimit: 50 });
  const subs = submissions(t);
  const jobs = subs.map((s) => tracker.track(s.promptId, { prompt: s.prompt }));
  for (const ev of submitterEvents(t)) events$.next(ev);
  const states = new Map<string, JobState>();
  for (const job of jobs) {
    if (job.finished || tracker.active(job.promptId) === undefined) states.set(job.promptId, await job.done);
    else states.set(job.promptId, job.state);
  }
  return { t, subs, states, tracker };
}

describe('transcript replay through the stream layer', () => {
  const names = transcriptNames();

  it('has every recorded scenario to replay', () => {
    expect(names).toEqual(expect.arrayContaining(['a_success_saveimage', 'd_execution_error', 'e_interrupt', 'i_reconnect_midrun', 'k_sd15_txt2img']));
  });

  it.each(names)('%s: every submitted prompt ends as its history entry says', async (name) => {
    const { t, subs, states } = await replay(name);
    for (const sub of subs) {
      const state = states.get(sub.promptId)!;
      const entry = historyOf(t, sub.promptId);
      if (!sub.withClientId) {
        // ComfyUI sends no end of run to anyone for a prompt posted without client_id.
        expect(state.settled).toBe(false);
        continue;
      }
      if (!entry) continue;
      expect(state.settled).toBe(true);
      expect(state.status).toBe(expectedStatus(entry));
      expect(state.outputs).toEqual(entry.outputs);
    }
  });

  it('a fresh run: running states, node titles, outputs with files and texts', async () => {
    const { states } = await replay('a_success_saveimage');
    const s = states.get('31ca828d-22a7-4153-9a7c-185bb9643c15')!;
    expect(s.status).toBe('success');
    expect(s.fraction).toBe(1);
    expect(s.files.map((f) => `${f.type}:${f.subfolder}/${f.filename}`).sort()).toEqual([
      'output:harness/scenario_a_00001_.png',
      'temp:/ComfyUI_temp_gjzmx_00001_.png',
    ]);
    expect(s.texts).toEqual(['scenario a run 13250007']);
  });

  it('a cached resubmit still reports the old outputs (executed re-sent for cached output nodes)', async () => {
    const { states } = await replay('b_cached_resubmit');
    const s = [...states.values()][0]!;
    expect(s.status).toBe('success');
    expect(s.cachedNodes.length).toBeGreaterThan(0);
    expect(s.files.length).toBeGreaterThan(0);
  });

  it('an execution error carries node, class, exception and traceback', async () => {
    const { states } = await replay('d_execution_error');
    const s = [...states.values()][0]!;
    expect(s.status).toBe('error');
    expect(s.error).toMatchObject({ nodeId: '2', classType: 'HarnessFail', exceptionType: 'RuntimeError' });
    expect(s.error!.exceptionMessage).toContain('boom from harness');
    expect(s.error!.traceback.length).toBeGreaterThan(0);
  });

  it('an interrupt ends the job as interrupted at the running node', async () => {
    const { states } = await replay('e_interrupt');
    const s = [...states.values()][0]!;
    expect(s.status).toBe('interrupted');
    expect(s.interrupted).toMatchObject({ id: '1', classType: 'HarnessSlowProgress' });
  });

  it('progress rises monotonically and per-node value/max follows progress_state', async () => {
    const t = loadTranscript('c_progress');
    const events$ = new Subject<ComfyEvent>();
    const tracker = new JobTracker({ router: new PromptRouter(events$), recentLimit: 5 });
    const sub = submissions(t)[0]!;
    const job = tracker.track(sub.promptId, { prompt: sub.prompt });
    const fractions: number[] = [];
    const steps: string[] = [];
    job.states$.subscribe((s) => {
      fractions.push(s.fraction);
      const n = s.nodes['1'];
      if (n && s.status === 'running') steps.push(`${n.value}/${n.max}`);
    });
    for (const ev of submitterEvents(t)) events$.next(ev);
    await job.done;
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]!).toBeGreaterThanOrEqual(fractions[i - 1]!);
    expect(fractions.at(-1)).toBe(1);
    expect(steps).toContain('10/20');
    expect(steps).toContain('20/20');
  });

  it('a socket that reconnects mid-run keeps the same job going to success', async () => {
    const { states } = await replay('i_reconnect_midrun');
    const s = [...states.values()][0]!;
    expect(s.status).toBe('success');
    expect(s.files.length).toBe(1);
  });

  it('two queued prompts and a front-of-queue prompt each end on their own', async () => {
    for (const name of ['g_two_queued', 'g2_front_of_queue']) {
      const { states, subs } = await replay(name);
      expect(subs.length).toBeGreaterThan(1);
      for (const sub of subs) expect(states.get(sub.promptId)!.status).toBe('success');
    }
  });

  it('previews with metadata are counted on their prompt', async () => {
    const { states } = await replay('c3_progress_previews_metadata');
    expect([...states.values()][0]!.previews).toBe(3);
  });

  it('finished jobs leave the active set and the router', async () => {
    const { tracker } = await replay('g_two_queued');
    expect(tracker.activeCount).toBe(0);
    expect(tracker.recent().length).toBe(2);
  });
});

/**
 * The same recordings as facts: what POST /prompt answered (`accepted`), what the socket said
 * about the prompt, what GET /history answered (`history`), then `settled`, folded by the reducer
 * alone, in recorded order. Every prompt with a recorded history entry ends as that entry says,
 * those posted without client_id included (the socket told nothing; history tells all).
 */
function recordedFacts(t: Transcript, promptId: string): JobFact[] {
  const facts: JobFact[] = [];
  for (const e of t.events) {
    if (e.source === 'http' && e.method === 'POST' && e.path?.endsWith('/prompt') && e.status === 200 && (e.body as { prompt_id?: string }).prompt_id === promptId) {
      facts.push(accepted((e.body as { number: number }).number));
    } else if (e.source === 'http' && e.method === 'GET' && e.path === `/history/${promptId}`) {
      const entry = (e.body as Record<string, HistoryLike | undefined>)[promptId];
      if (entry) facts.push(history(entry));
    } else if (e.source === 'ws' && e.kind === 'text' && e.client?.startsWith('submitter')) {
      const ev = parseMessage(e.type!, e.data);
      if (ev && promptIdOf(ev) === promptId) facts.push(ev);
    }
  }
  return [...facts, settled('no outcome recorded')];
}

describe('transcript replay as facts through the reducer alone', () => {
  it.each(transcriptNames())('%s: the recorded facts fold into what history says', (name) => {
    const t = loadTranscript(name);
    for (const sub of submissions(t)) {
      const entry = historyOf(t, sub.promptId);
      if (!entry) continue;
      const ctx = promptContext(sub.prompt);
      const final = recordedFacts(t, sub.promptId).reduce((s, f, i) => reduceJob(s, f, ctx, i + 1), initialJobState(sub.promptId, 0));
      expect(final.settled).toBe(true);
      expect(final.status).toBe(expectedStatus(entry));
      expect(final.outputs).toEqual(entry.outputs);
      expect(final.queueNumber).toEqual(expect.any(Number));
    }
  });
});
