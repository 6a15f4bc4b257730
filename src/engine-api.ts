import type { Observable } from 'rxjs';
import type { Config } from './config.js';
import type { ComfyClient } from './comfy/client.js';
import type { ApiPrompt, ObjectInfo } from './comfy/types.js';
import type { ComfyEvent } from '../streams/messages.js';
import type { JobState } from '../streams/job-state.js';
import type { JobHandle } from '../streams/tracked-job.js';

/**
 * What the MCP server, the CLI and the feed may do with the engine. Narrow on purpose: they
 * submit and cancel through it, read jobs, and call ComfyUI's read-only endpoints (and uploads of
 * inputs); the socket, the router, the tracker and the policies stay inside.
 */

/** ComfyUI calls that change no job: reads, downloads, and uploads of input images. */
export type ComfyReads = Pick<
  ComfyClient,
  | 'baseUrl'
  | 'getQueue'
  | 'getHistory'
  | 'getHistoryList'
  | 'getSystemStats'
  | 'getFeatures'
  | 'getNodeInfo'
  | 'listModelFolders'
  | 'listModels'
  | 'listUserWorkflows'
  | 'readUserWorkflow'
  | 'viewUrl'
  | 'download'
  | 'uploadImage'
>;

export interface SubmitOptions {
  workflow?: string;
  front?: boolean;
  /** Download the outputs when the job succeeds (default true). */
  download?: boolean;
  signal?: AbortSignal;
  /** Run on this host only (its name), when there are several (src/fleet/). */
  host?: string;
  /** Run only on hosts carrying every one of these tags. */
  tags?: readonly string[];
  /** The fleet's own: the prompt id to use (a re-dispatch keeps the job's id). */
  promptId?: string;
  /** The fleet's own: why this host was chosen, shown in the job's status. */
  dispatch?: string;
  /** The fleet's own: when the caller first asked (a re-dispatch keeps it). */
  submittedAt?: number;
}

export type CancelOutcome = 'dequeued' | 'interrupted' | 'already_finished' | 'unknown';

/** The jobs this process submitted: in flight, or recently finished. */
export interface JobsView {
  /** A job still in flight. */
  job(promptId: string): JobHandle | undefined;
  /** Live state of a job in flight, or the final state of a recent one. */
  jobState(promptId: string): JobState | undefined;
  /** Jobs in flight, oldest first. */
  inFlight(): JobHandle[];
  /** Finished jobs, newest first. */
  recent(limit?: number): JobState[];
}

/**
 * What the engine holds now: a read-only diagnostics view (get_system_stats shows it). Over any
 * number of finished jobs each figure stays flat; the recent jobs stop at their cap.
 */
export interface EngineCounts {
  jobsInFlight: number;
  recentJobs: number;
  /** Per-prompt routes of the event router (one per job in flight). */
  promptRoutes: number;
  /** Jobs whose outputs are downloading now. */
  downloads: number;
  /** Jobs in flight submitted with download: false (the mark is taken when they settle). */
  noDownloadMarks: number;
  /** Subscribers of the socket's event stream, and of its state streams. */
  eventSubscribers: number;
  stateSubscribers: number;
  /** Listeners on the current WebSocket; undefined before the first socket. */
  socketListeners: number | undefined;
  /** Sockets open to ComfyUI in the HTTP pool; undefined when the dispatcher keeps no stats. */
  httpConnections: number | undefined;
}

/** A ComfyUI host as tools show it: name, address, state, and what dispatch knows of it. */
export interface HostStatus {
  name: string;
  url: string;
  /** The socket's state: connecting, open, reconnecting, closed. */
  state: string;
  up: boolean;
  weight: number;
  tags: readonly string[];
  /** Out of rotation (hosts file `drain`): it takes new jobs only when pinned. */
  draining: boolean;
  /** Jobs ahead of a new one there: ComfyUI's own count (every client's), or ours when that is behind. */
  queue: number;
  /** This process's jobs there that are not finished. */
  jobsInFlight: number;
  /** Measured seconds per job there (moving average over every workflow), once a job has run. */
  secondsPerJob: number | undefined;
  /** The checkpoint the host last loaded for one of our jobs. */
  loadedCheckpoint: string | undefined;
  /** What dispatch read of it: counts, the read's error, or undefined before the first read. */
  catalog: { nodeClasses: number; models: number } | { error: string } | undefined;
}

/** One host of the engine: its name, its reads, its status now. An engine over one server has one. */
export interface EngineHost {
  readonly name: string;
  readonly url: string;
  readonly comfy: ComfyReads;
  status(): HostStatus;
}

export interface ComfyEngine extends JobsView {
  readonly config: Readonly<Config>;
  readonly comfy: ComfyReads;
  /** Every decoded socket event (the feed, resource notifications). */
  readonly events$: Observable<ComfyEvent>;
  /** ComfyUI's /object_info, cached briefly. */
  objectInfo(): Promise<ObjectInfo>;
  submit(prompt: ApiPrompt, options?: SubmitOptions): Promise<JobHandle>;
  cancel(promptId: string): Promise<CancelOutcome>;
  counts(): EngineCounts;
  /** Every ComfyUI host, in configuration order (one for a single server). */
  hostList(): readonly EngineHost[];
}
