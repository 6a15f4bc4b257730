import type { CatalogRead } from './host-catalog.js';
import type { HostLoad } from './host-load.js';
import { modelKey, type PromptNeeds } from './prompt-needs.js';

/**
 * The dispatch decision, pure and synchronous over what the fleet already knows (no request is
 * made here; bench/dispatch.ts times it). In order:
 *   1. eligible hosts: up, not draining, not excluded, carrying every requested tag, with every node class and
 *      model file the prompt names (their catalogs);
 *   2. among them the least expected cost: the queue ahead × the host's measured seconds per job
 *      of this workflow ÷ its weight, plus a model switch where the host will not have the
 *      prompt's checkpoint loaded. The switch is priced at what it measurably costs that host
 *      (one job's time until measured), so stickiness wins while it saves time, and a single
 *      popular checkpoint still spreads over the fleet once one host's queue outweighs a reload;
 *   3. ties: the host that has the checkpoint, then one with no model to evict, then the one that
 *      was sent fewer jobs, then configuration order.
 * The reason is written for people: it becomes the job's `dispatch` text.
 */

export interface HostView {
  name: string;
  up: boolean;
  /** Why it is not up (for the rejection text): "reconnecting", "connecting"... */
  state: string;
  weight: number;
  tags: readonly string[];
  /** Out of rotation (hosts file `drain`): only a pinned job goes there. */
  draining: boolean;
  catalog: CatalogRead | undefined;
  load: HostLoad;
}

export interface DispatchRequest {
  needs: PromptNeeds;
  /** Key of the moving averages: the template's name, or "(prompt)" for a raw prompt. */
  workflow: string;
  /** Only this host (the caller pinned it). */
  host?: string;
  /** Only hosts carrying every one of these tags. */
  tags?: readonly string[];
  /** Hosts not to use (a re-dispatch leaves out the host that lost the job). */
  exclude?: ReadonlySet<string>;
}

export interface Rejection {
  host: string;
  why: string;
}

export type Decision = { ok: true; host: string; reason: string } | { ok: false; reason: string; rejected: Rejection[] };

/** Seconds per job assumed for a host with no measurement yet, when no host has one either. */
const UNMEASURED_S = 1;

interface Candidate {
  view: HostView;
  wait: number;
  cost: number;
  sticky: boolean;
  queue: number;
  spj: number;
  measured: boolean;
}

/** Why a host cannot take this prompt, or undefined when it can. */
export function ineligibility(view: HostView, request: DispatchRequest): string | undefined {
  if (request.exclude?.has(view.name)) return 'it lost this job';
  for (const tag of request.tags ?? []) if (!view.tags.includes(tag)) return `not tagged ${tag}`;
  if (!view.up) return `down (${view.state})`;
  if (view.draining) return 'draining (out of rotation: pin it to use it)';
  const read = view.catalog;
  if (read === undefined) return 'its node classes and models are not known yet';
  if (!read.ok) return `its /object_info or /models could not be read (${read.error})`;
  const missingClasses = request.needs.nodeClasses.filter((c) => !read.catalog.nodeClasses.has(c));
  if (missingClasses.length > 0) return `lacks node class${missingClasses.length > 1 ? 'es' : ''} ${list(missingClasses)}`;
  const missingModels = request.needs.models.filter((m) => !read.catalog.models.has(modelKey(m)));
  if (missingModels.length > 0) return `lacks model${missingModels.length > 1 ? 's' : ''} ${list(missingModels)}`;
  return undefined;
}

export function decide(hosts: readonly HostView[], request: DispatchRequest): Decision {
  if (request.host !== undefined) return pinned(hosts, request);
  const rejected: Rejection[] = [];
  const eligible: HostView[] = [];
  for (const view of hosts) {
    const why = ineligibility(view, request);
    if (why === undefined) eligible.push(view);
    else rejected.push({ host: view.name, why });
  }
  if (eligible.length === 0) {
    return { ok: false, reason: `No ComfyUI host can run this prompt: ${rejected.map((r) => `${r.host} ${r.why}`).join('; ')}.`, rejected };
  }
  const fallback = medianMeasured(eligible, request.workflow) ?? UNMEASURED_S;
  const { checkpoint } = request.needs;
  let best: Candidate | undefined;
  const candidates: Candidate[] = [];
  for (const view of eligible) {
    const measuredSpj = view.load.secondsPerJob(request.workflow);
    const spj = measuredSpj ?? fallback;
    const queue = view.load.queueLength();
    const wait = (queue * spj) / view.weight;
    const has = view.load.queuedCheckpoint ?? view.load.loadedCheckpoint;
    const sticky = checkpoint !== undefined && has === checkpoint;
    const cost = wait + (checkpoint === undefined || sticky ? 0 : (view.load.modelSwitchSeconds() ?? spj));
    const c: Candidate = { view, wait, cost, sticky, queue, spj, measured: measuredSpj !== undefined };
    candidates.push(c);
    if (best === undefined || better(c, best)) best = c;
  }
  const chosen = best!;
  return { ok: true, host: chosen.view.name, reason: explain(chosen, candidates, checkpoint) };
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.cost !== b.cost) return a.cost < b.cost;
  if (a.sticky !== b.sticky) return a.sticky;
  const aEmpty = (a.view.load.queuedCheckpoint ?? a.view.load.loadedCheckpoint) === undefined;
  const bEmpty = (b.view.load.queuedCheckpoint ?? b.view.load.loadedCheckpoint) === undefined;
  if (aEmpty !== bEmpty) return aEmpty;
  return a.view.load.dispatched < b.view.load.dispatched;
}

function pinned(hosts: readonly HostView[], request: DispatchRequest): Decision {
  const view = hosts.find((h) => h.name === request.host);
  if (!view) {
    const reason = `There is no ComfyUI host named "${request.host!.slice(0, 64)}"; the hosts are ${list(hosts.map((h) => h.name))}.`;
    return { ok: false, reason, rejected: [] };
  }
  // A pinned host that is down is still the caller's choice: the submission waits for it (and
  // says so if it does not come back in time). A draining one too: pinning is how to use it.
  // Missing nodes or models would only fail there.
  const why = view.up ? ineligibility({ ...view, draining: false }, { ...request, tags: [] }) : undefined;
  if (why !== undefined) return { ok: false, reason: `The pinned host ${view.name} cannot run this prompt: it ${why}.`, rejected: [{ host: view.name, why }] };
  return { ok: true, host: view.name, reason: view.up ? `pinned to ${view.name} by the caller` : `pinned to ${view.name} by the caller (it is ${view.state})` };
}

function medianMeasured(views: readonly HostView[], workflow: string): number | undefined {
  const values = views.map((v) => v.load.secondsPerJob(workflow)).filter((s): s is number => s !== undefined).sort((a, b) => a - b);
  if (values.length === 0) return undefined;
  return values[Math.floor(values.length / 2)];
}

function seconds(s: number): string {
  return s >= 10 ? `${Math.round(s)} s` : `${Number(s.toFixed(1))} s`;
}

function waitText(c: Candidate): string {
  if (c.queue === 0) return 'an empty queue';
  const per = c.measured ? ` × ${seconds(c.spj)}` : '';
  const weight = c.view.weight !== 1 ? ` ÷ weight ${c.view.weight}` : '';
  return `${c.queue} job${c.queue > 1 ? 's' : ''} queued${per}${weight}${c.measured ? ` ≈ ${seconds(c.wait)}` : ''}`;
}

function explain(chosen: Candidate, all: readonly Candidate[], checkpoint: string | undefined): string {
  const name = chosen.view.name;
  const others = all.filter((c) => c !== chosen);
  const has = chosen.sticky ? `it has ${checkpoint} loaded and ` : '';
  const head = `sent to ${name}: ${has}${chosen.sticky ? waitText(chosen) : `the shortest expected wait, ${waitText(chosen)}`}`;
  if (others.length === 0) return `${head} (the only eligible host)`;
  const shown = others.slice(0, 3).map((c) => `${c.view.name} ${waitText(c)}${c.sticky || checkpoint === undefined ? '' : ', model switch'}`);
  return `${head} (${shown.join('; ')}${others.length > 3 ? `; ${others.length - 3} more` : ''})`;
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, 5).map((i) => i.slice(0, 80));
  return `${shown.join(', ')}${items.length > 5 ? ` and ${items.length - 5} more` : ''}`;
}
