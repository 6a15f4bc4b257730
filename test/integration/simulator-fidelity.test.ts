import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { replayTranscript, type ReplayResult } from '../helpers/replay.js';
import { loadTranscript, type Transcript } from '../helpers/transcript.js';

/**
 * Fidelity: every recorded transcript of a real ComfyUI 0.3.64 is replayed against the
 * simulator; each client's messages must render to the recorded summary, HTTP statuses must
 * match, and bodies must match after normalising what depends on server history (ids,
 * numbers, counters, timestamps, tracebacks, machine stats).
 */

const SCENARIOS = ['a_success_saveimage', 'b_cached_resubmit', 'b2_partial_cache', 'c_progress', 'c2_progress_previews_legacy',
  'c3_progress_previews_metadata', 'd_execution_error', 'e_interrupt', 'f_validation_errors', 'g_two_queued', 'g2_front_of_queue',
  'h_http_endpoints', 'h2_queue_delete_clear_interrupt', 'i_reconnect_midrun', 'j_no_client_id', 'k2_missing_checkpoint', 'k_sd15_txt2img'];

/** Prompts that must have run before a scenario (the recording session ran them earlier). */
const PREREQUISITES: Record<string, Array<[string, boolean]>> = {
  b_cached_resubmit: [['a_success_saveimage', false]],
  b2_partial_cache: [['a_success_saveimage', false]],
  h_http_endpoints: [['a_success_saveimage', true], ['d_execution_error', true]],
};

/**
 * Recordings in which several prompts were queued before ComfyUI's worker took the first
 * (g_two_queued: statuses 1, 2, 2). Whether the HTTP handler queues the next prompt before the
 * worker thread takes the first is a race in ComfyUI too; the replay holds the simulator's worker
 * until that many POST /prompt were answered, so it goes the recorded way and the order of every
 * frame, status included, is still compared exactly.
 */
const QUEUED_BEFORE_PICKUP: Record<string, number> = { g_two_queued: 2 };

/** Paths whose bodies depend on the recording server's machine or history: compare shape only. */
const SHAPE_ONLY = [/^\/system_stats$/, /^\/history\?max_items/, /^\/models\/checkpoints$/];

async function runPrerequisite(sim: Simulator, name: string, keepId: boolean): Promise<void> {
  const t = loadTranscript(name);
  const post = t.events.find((e) => e.source === 'http' && e.path === '/prompt' && e.method === 'POST');
  const recorded = post?.body as { prompt_id: string };
  const body = { ...(post?.request_body as object), ...(keepId ? { prompt_id: recorded.prompt_id } : {}) };
  const res = await fetch(`${sim.url}/prompt`, { method: 'POST', body: JSON.stringify(body) });
  const { prompt_id: id } = (await res.json()) as { prompt_id: string };
  for (let i = 0; i < 400; i++) {
    const h = (await (await fetch(`${sim.url}/history/${id}`)).json()) as object;
    if (Object.keys(h).length > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`prerequisite ${name} did not finish`);
}

function normalize(value: unknown, r: ReplayResult, key = ''): unknown {
  if (key === 'timestamp') return 0;
  if (key === 'traceback') return '<traceback>';
  if (key === 'current_inputs') return Object.keys(value as object).sort();
  if (key === 'current_outputs' || key === 'executed') return [...(value as string[])].sort();
  if (typeof value === 'string') {
    return (r.ids.get(value) ?? value)
      .replace(/ComfyUI_temp_[a-z]{5}_/g, 'ComfyUI_temp_xxxxx_')
      .replace(/_\d{5}_\.png/g, '_NNNNN_.png');
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => normalize(v, r));
    // Queue/history item arrays: [number, prompt_id, prompt, extra_data, outputs]
    if (value.length === 5 && typeof value[0] === 'number' && typeof value[1] === 'string') items[0] = r.numbers.get(value[0]) ?? value[0];
    return items;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[r.ids.get(k) ?? k] = normalize(v, r, k);
    if (typeof out.number === 'number' && 'prompt_id' in out) out.number = r.numbers.get(out.number) ?? out.number;
    return out;
  }
  return value;
}

function shape(value: unknown): unknown {
  if (Array.isArray(value)) return 'array';
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    // Objects keyed by prompt ids (history lists): compare one entry's shape.
    if (entries.length && entries.every(([k]) => /^[0-9a-f-]{36}$/.test(k))) return ['map-of', shape(entries[0]?.[1])];
    return Object.fromEntries(entries.map(([k, v]) => [k, k === 'outputs' || k === 'meta' || k === 'messages' ? 'varies' : shape(v)]));
  }
  return typeof value;
}

describe.each(SCENARIOS)('transcript %s', (name) => {
  let sim: Simulator;
  let t: Transcript;
  let result: ReplayResult;

  beforeAll(async () => {
    t = loadTranscript(name);
    sim = await startSimulator({ stepDelayMs: 5 });
    for (const [pre, keepId] of PREREQUISITES[name] ?? []) await runPrerequisite(sim, pre, keepId);
    const preset = new Map<string, string>((PREREQUISITES[name] ?? []).filter(([, keep]) => keep).map(([pre]) => {
      const id = (loadTranscript(pre).events.find((e) => e.path === '/prompt' && e.method === 'POST')?.body as { prompt_id: string }).prompt_id;
      return [id, id];
    }));
    result = await replayTranscript(t, sim.url, preset, { faults: sim.faults, holdWorkerUntilPosts: QUEUED_BEFORE_PICKUP[name] ?? 0 });
  }, 60_000);

  afterAll(async () => {
    await sim.close();
  });

  it('sends every client the recorded messages in the recorded order', () => {
    for (const [client, expected] of Object.entries(t.summary.ws)) {
      expect({ client, lines: result.clients[client]?.lines }).toEqual({ client, lines: expected });
    }
  });

  it('answers every HTTP request with the recorded status and body', () => {
    expect(result.http.map((h) => `${h.event.method} ${h.event.path} -> ${h.status}`)).toEqual(t.summary.http);
    for (const h of result.http) {
      const path = h.event.path ?? '';
      const ours = normalize(h.body, result);
      const recorded = normalize(h.event.body, { ...result, ids: new Map(), numbers: new Map() });
      if (SHAPE_ONLY.some((re) => re.test(path)) || name === 'k2_missing_checkpoint') {
        expect({ path, body: shape(ours) }).toEqual({ path, body: shape(recorded) });
      } else if (typeof recorded === 'object' && recorded && 'binary' in recorded) {
        expect((ours as { head_hex: string }).head_hex).toBe((recorded as unknown as { head_hex: string }).head_hex);
      } else {
        expect({ path, body: ours }).toEqual({ path, body: recorded });
      }
      expect({ path, type: h.contentType }).toEqual({ path, type: h.event.content_type });
    }
  });
});
