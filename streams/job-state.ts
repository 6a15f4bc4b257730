import type { ApiPrompt } from '../src/comfy/types.js';
import { nullRecord, own } from '../src/input-policy/own.js';
import type { ComfyEvent, FileRef, NodeOutput } from './messages.js';
import { FileRefSchema, parseMessage } from './messages.js';
import { FAILED_WITHOUT_DETAILS, REMOVED_FROM_QUEUE, downloaded, type HistoryLike, type JobFact } from './job-facts.js';

/**
 * A job's state, folded from its facts (job-facts.ts: the socket's events and what comfywire
 * learnt over HTTP or decided) by one pure reducer, `reduceJob`. It is the only code that writes
 * a job's state: the live socket, resync, queue refresh, settle, cancel and the replay tests all
 * go through it, and it alone enforces that a finished job keeps its outcome.
 */

export type JobStatus = 'queued' | 'running' | 'success' | 'error' | 'interrupted' | 'cancelled' | 'lost';

export const FINISHED: ReadonlySet<JobStatus> = new Set(['success', 'error', 'interrupted', 'cancelled', 'lost']);

export interface NodeRef {
  id: string;
  classType?: string;
  title?: string;
}

export interface NodeProgressState {
  value: number;
  max: number;
  state: string;
}

export interface JobError {
  nodeId: string;
  classType: string;
  title?: string;
  exceptionType: string;
  exceptionMessage: string;
  traceback: string[];
  inputs: unknown;
  executed: string[];
}

export interface OutputFile extends FileRef {
  nodeId: string;
  /** Which key of the node's UI output held it: images, audio, gifs, 3d... */
  kind: string;
}

export interface DownloadedFile {
  nodeId: string;
  filename: string;
  subfolder: string;
  type: string;
  path: string;
  bytes: number;
}

export interface JobState {
  promptId: string;
  status: JobStatus;
  workflow?: string;
  submittedAt: number;
  startedAt?: number;
  endedAt?: number;
  /** ComfyUI's queue number, known once POST /prompt answered (the job is then ComfyUI's to run). */
  queueNumber?: number;
  /** How many prompts are ahead of this one (the running one included); only while queued. */
  queuePosition?: number;
  currentNode?: NodeRef;
  nodes: Record<string, NodeProgressState>;
  cachedNodes: string[];
  /** Overall progress 0..1, never decreasing while the job runs; 1 on success. */
  fraction: number;
  outputs: Record<string, NodeOutput>;
  files: OutputFile[];
  texts: string[];
  downloads: DownloadedFile[];
  downloadErrors: string[];
  error?: JobError;
  interrupted?: NodeRef;
  lostReason?: string;
  /** The ComfyUI host that has the job (its name; one host or several, see src/fleet/). */
  host?: string;
  /** Why the job went to that host, when there was a choice (several hosts, a re-dispatch). */
  dispatch?: string;
  /** A success whose outputs could not be determined, and why: not the same as "no files". */
  outputsUnknown?: string;
  previews: number;
  /**
   * Who ended the run: its end of run on the socket, its history entry, or comfywire (lost,
   * cancelled). Settling (history when needed, downloads) starts then.
   */
  endedBy?: 'socket' | 'history' | 'comfywire';
  /** Set by the last fact (`settled`): outputs read and downloaded, nothing changes any more. */
  settled: boolean;
}

/** What the reducer needs to know of the prompt: titles and class types for readable states. */
export interface PromptContext {
  /** Without a prototype (nullRecord): a node id read from a frame indexes entries only. */
  nodes: Record<string, { classType: string; title?: string; weight: number }>;
  totalWeight: number;
}

/** Samplers dominate a render's time, so they weigh more in the overall fraction. */
const SAMPLER_WEIGHT = 8;

export function promptContext(prompt: ApiPrompt | undefined): PromptContext {
  // Node ids come from the prompt (another client's, for a foreign job): "__proto__" is just an id.
  const nodes: PromptContext['nodes'] = nullRecord();
  let totalWeight = 0;
  for (const [id, node] of Object.entries(prompt ?? {})) {
    const weight = /sampler|sample/i.test(node.class_type) ? SAMPLER_WEIGHT : 1;
    const title = node._meta?.title;
    nodes[id] = title === undefined ? { classType: node.class_type, weight } : { classType: node.class_type, title, weight };
    totalWeight += weight;
  }
  return { nodes, totalWeight };
}

/** Where a job was placed, fixed when it is tracked. */
export interface JobPlacement {
  host?: string;
  dispatch?: string;
}

export function initialJobState(promptId: string, submittedAt: number, workflow?: string, placement: JobPlacement = {}): JobState {
  // Every key, present from the start and always in this order: the reducer's spreads then keep
  // one object shape, and reduceJob stays monomorphic (keys added in varying orders cost about
  // a third more per fact; bench/latency.ts). The type makes a key added to JobState a compile
  // error here until it is listed.
  const state: { [K in keyof Required<JobState>]: JobState[K] } = {
    promptId,
    status: 'queued',
    workflow,
    submittedAt,
    startedAt: undefined,
    endedAt: undefined,
    queueNumber: undefined,
    queuePosition: undefined,
    currentNode: undefined,
    nodes: {},
    cachedNodes: [],
    fraction: 0,
    outputs: {},
    files: [],
    texts: [],
    downloads: [],
    downloadErrors: [],
    error: undefined,
    interrupted: undefined,
    lostReason: undefined,
    host: placement.host,
    dispatch: placement.dispatch,
    outputsUnknown: undefined,
    previews: 0,
    endedBy: undefined,
    settled: false,
  };
  return state;
}

export function nodeRef(ctx: PromptContext, id: string, classType?: string): NodeRef {
  // ctx.nodes has no prototype (promptContext): a plain index reads entries only.
  const known = ctx.nodes[id] ?? ctx.nodes[id.split('.')[0] ?? id];
  const ref: NodeRef = { id };
  const cls = classType ?? known?.classType;
  if (cls !== undefined) ref.classType = cls;
  if (known?.title !== undefined) ref.title = known.title;
  return ref;
}

/** Every `{filename, type}` object in a node's UI output, whatever key it sits under. */
export function filesOf(nodeId: string, output: NodeOutput): OutputFile[] {
  const files: OutputFile[] = [];
  for (const [kind, items] of Object.entries(output)) {
    for (const item of items) {
      const parsed = FileRefSchema.safeParse(item);
      if (parsed.success) files.push({ ...parsed.data, nodeId, kind });
    }
  }
  return files;
}

function textsOf(output: NodeOutput): string[] {
  return (output['text'] ?? []).filter((t): t is string => typeof t === 'string');
}

/** Record one node's UI output, replacing what an earlier `executed` for that node said. */
export function withOutput(state: JobState, nodeId: string, output: NodeOutput): JobState {
  const outputs = { ...state.outputs, [nodeId]: output };
  const files: OutputFile[] = [];
  const texts: string[] = [];
  for (const [id, out] of Object.entries(outputs)) {
    files.push(...filesOf(id, out));
    texts.push(...textsOf(out));
  }
  return { ...state, outputs, files, texts };
}

/** The prompt node an id belongs to: backend expansion runs "5.0.0.1" on behalf of "5" (protocol §6.8). */
export function promptNodeOf(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

/**
 * The step counter to show for a node: its own, or, while it has none worth showing (a node that
 * expanded into a sub-graph stays at 0/1), the running one of its expanded children.
 */
export function stepOf(state: JobState, id: string): NodeProgressState | undefined {
  const self = own(state.nodes, id);
  if (self && self.max > 1) return self;
  let child: NodeProgressState | undefined;
  for (const [childId, p] of Object.entries(state.nodes)) {
    if (childId !== id && promptNodeOf(childId) === id && p.state === 'running' && p.max > 1) child = p;
  }
  return child ?? self;
}

/**
 * The overall fraction from the parts of a state that decide it, so the reducer builds the next
 * state with one spread (a state has two dozen keys; progress frames are most of the traffic).
 */
function computeFraction(state: Pick<JobState, 'nodes' | 'cachedNodes' | 'fraction'>, ctx: PromptContext): number {
  if (ctx.totalWeight === 0) return state.fraction;
  // Per prompt node, how far it got: 1 once finished, else the furthest of its own counter and
  // those of the nodes it expanded into (which weigh nothing on their own).
  const progress = new Map<string, number>();
  for (const id of state.cachedNodes) progress.set(id, 1);
  for (const [id, p] of Object.entries(state.nodes)) {
    const owner = promptNodeOf(id);
    if (progress.get(owner) === 1) continue;
    const part = p.state === 'finished' && owner === id ? 1 : p.max > 0 ? Math.min(1, p.value / p.max) : 0;
    progress.set(owner, Math.max(progress.get(owner) ?? 0, part));
  }
  let done = 0;
  for (const [id, part] of progress) done += (ctx.nodes[id]?.weight ?? 0) * part;
  return Math.max(state.fraction, Math.min(0.99, done / ctx.totalWeight));
}

/**
 * Fold one fact of this prompt into its state. Events of other prompts must not reach here (the
 * router separates them). A finished status is final: later facts may add outputs and downloads,
 * never change the outcome. (A tracked job's stream ends at `settled`, so nothing follows that.)
 */
export function reduceJob(state: JobState, fact: JobFact, ctx: PromptContext, now: number): JobState {
  const finished = FINISHED.has(state.status);
  switch (fact.type) {
    case 'execution_start':
      if (finished) return state;
      return { ...state, status: 'running', startedAt: state.startedAt ?? now, queuePosition: undefined };
    case 'execution_cached': {
      const cachedNodes = [...fact.data.nodes];
      if (finished) return { ...state, cachedNodes };
      return { ...state, cachedNodes, fraction: computeFraction({ nodes: state.nodes, cachedNodes, fraction: state.fraction }, ctx) };
    }
    case 'executing': {
      // The end of run: nothing more comes from the socket for this prompt.
      if (fact.data.node === null) return fact.data.prompt_id === undefined || state.endedBy ? state : { ...state, endedBy: 'socket' };
      if (finished) return state;
      const display = fact.data.display_node ?? fact.data.node;
      return { ...state, status: 'running', startedAt: state.startedAt ?? now, currentNode: nodeRef(ctx, display) };
    }
    case 'progress': {
      if (finished) return state;
      const id = fact.data.node ?? state.currentNode?.id;
      if (id === undefined || id === null) return state;
      const nodes = { ...state.nodes, [id]: { value: fact.data.value, max: fact.data.max, state: 'running' } };
      return { ...state, nodes, fraction: computeFraction({ nodes, cachedNodes: state.cachedNodes, fraction: state.fraction }, ctx) };
    }
    case 'progress_state': {
      if (finished) return state;
      const nodes = nullRecord<NodeProgressState>();
      for (const [id, p] of Object.entries(fact.data.nodes)) nodes[id] = { value: p.value, max: p.max, state: p.state };
      return { ...state, status: 'running', nodes, fraction: computeFraction({ nodes, cachedNodes: state.cachedNodes, fraction: state.fraction }, ctx) };
    }
    case 'executed':
      return fact.data.output ? withOutput(state, fact.data.node, fact.data.output) : state;
    case 'preview':
      return { ...state, previews: state.previews + 1 };
    case 'execution_success':
      if (finished) return state;
      return { ...state, status: 'success', fraction: 1, endedAt: now, currentNode: undefined };
    case 'execution_error': {
      if (finished || fact.data.exception_type === 'ExecutionBlocked') return state;
      const ref = nodeRef(ctx, fact.data.node_id, fact.data.node_type);
      const error: JobError = {
        nodeId: fact.data.node_id,
        classType: fact.data.node_type,
        exceptionType: fact.data.exception_type,
        exceptionMessage: fact.data.exception_message,
        traceback: fact.data.traceback,
        inputs: fact.data.current_inputs ?? {},
        executed: fact.data.executed,
      };
      if (ref.title !== undefined) error.title = ref.title;
      return { ...state, status: 'error', error, endedAt: now };
    }
    case 'execution_interrupted':
      if (finished) return state;
      return { ...state, status: 'interrupted', interrupted: nodeRef(ctx, fact.data.node_id, fact.data.node_type), endedAt: now };
    case 'accepted':
      return { ...state, queueNumber: fact.data.number };
    case 'queue_position':
      return state.status === 'queued' && state.queuePosition !== fact.data.ahead ? { ...state, queuePosition: fact.data.ahead } : state;
    case 'seen_running':
      if (finished) return state;
      return { ...state, status: 'running', queuePosition: undefined, startedAt: state.startedAt ?? now };
    case 'dequeued':
      // Ours: cancelled. Someone else's: lost, but only while it waited (a running job left the
      // queue to run, its events tell the rest).
      if (fact.data.by === 'us') return finished ? state : ended(state, 'cancelled', now);
      return state.status === 'queued' ? { ...ended(state, 'lost', now), lostReason: REMOVED_FROM_QUEUE } : state;
    case 'history':
      return foldHistory(state, fact.data.entry, ctx, now);
    case 'lost': {
      // Nothing more will come: the run is over for us even when its outcome is already known.
      const over: JobState = state.endedBy ? state : { ...state, endedBy: 'comfywire' };
      return finished ? over : { ...ended(over, 'lost', now), lostReason: fact.data.reason };
    }
    case 'downloaded':
      return { ...state, downloads: [...state.downloads, ...fact.data.files], downloadErrors: [...state.downloadErrors, ...fact.data.errors] };
    case 'outputs_unknown':
      return { ...state, outputsUnknown: fact.data.reason };
    case 'settle_failed':
      return { ...state, downloadErrors: [...state.downloadErrors, fact.data.message] };
    case 'settled': {
      const final: JobState = finished ? state : { ...ended(state, 'lost', now), lostReason: fact.data.unknownOutcome, endedAt: state.endedAt ?? now };
      return { ...final, endedBy: final.endedBy ?? 'comfywire', settled: true, currentNode: undefined, queuePosition: undefined };
    }
    default:
      return state;
  }
}

/** The job ends here, decided by comfywire (not by a message of ComfyUI's). */
function ended(state: JobState, status: 'cancelled' | 'lost', now: number): JobState {
  return { ...state, status, endedAt: now, queuePosition: undefined, endedBy: state.endedBy ?? 'comfywire' };
}

/**
 * A `/history/{id}` entry: outputs the socket did not deliver (cached output nodes), then its
 * status messages, which are the WS messages' payloads, replayed through this same reducer so an
 * outcome read from history looks exactly like one seen live.
 */
function foldHistory(state: JobState, entry: HistoryLike, ctx: PromptContext, now: number): JobState {
  let next = state;
  for (const [nodeId, output] of Object.entries(entry.outputs ?? {})) {
    if (!(nodeId in next.outputs)) next = withOutput(next, nodeId, output);
  }
  for (const [type, data] of entry.status?.messages ?? []) {
    const event: ComfyEvent | undefined = parseMessage(type, data);
    if (event) next = reduceJob(next, event, ctx, now);
  }
  if (next.status === 'queued' || next.status === 'running') {
    // History without a terminal message: trust status_str.
    if (entry.status?.status_str === 'success') next = { ...next, status: 'success', fraction: 1, endedAt: now };
    else if (entry.status?.status_str === 'error') next = { ...next, status: 'error', endedAt: now, error: unknownError() };
  }
  return next.endedBy ? next : { ...next, endedBy: 'history' };
}

/** ComfyUI said "error" and nothing more: no node, no exception to show. */
function unknownError(): JobError {
  return { nodeId: '', classType: 'unknown', exceptionType: 'unknown', exceptionMessage: FAILED_WITHOUT_DETAILS, traceback: [], inputs: {}, executed: [] };
}

/**
 * Fold a `downloaded` fact (files that came, or notes on files that did not) into a state held
 * outside a tracked job: another process's job, a finished one. Downloads need no prompt context.
 */
export function withDownloads(state: JobState, files: DownloadedFile[], notes: string[] = []): JobState {
  return reduceJob(state, downloaded(files, notes), NO_CONTEXT, Date.now());
}

const NO_CONTEXT = promptContext(undefined);
