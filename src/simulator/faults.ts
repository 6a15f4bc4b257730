/**
 * Failure injection for tests: the ways a real ComfyUI (or the network in front of it)
 * misbehaves. The simulator consults these at the matching points.
 */
export interface NodeMatch {
  classType?: string;
  nodeId?: string;
}

interface NodeFault {
  match: NodeMatch;
  failure?: { message: string; exceptionType: string };
  /** The node returns an ExecutionBlocker with this message instead of running. */
  block?: string;
  delayMs?: number;
}

export interface FaultActions {
  dropSockets(): void;
  sendRaw(frame: string | Buffer): void;
  stallSockets(): void;
  unstallSockets(): void;
  garbleSockets(garbled: boolean): void;
  restart(): Promise<void>;
  setWorkerPaused(paused: boolean): void;
}

/** A running node's progress step to hold (ComfyUI's steps are timed by the node, so this is only slower). */
export interface StepMatch {
  promptId: string;
  nodeId: string;
  /** Held before the step whose value reaches this. */
  value: number;
}

interface StepHold extends StepMatch {
  reached(): void;
  released: Promise<void>;
}

/** A hold the test releases; `reached` resolves once the server waits at it. */
export interface Hold {
  reached: Promise<void>;
  release(): void;
}

interface PendingHold {
  reached(): void;
  released: Promise<void>;
  release(): void;
}

function pendingHold(): { pending: PendingHold; hold: Hold } {
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => (reached = r));
  const released = new Promise<void>((r) => (release = r));
  return { pending: { reached, released, release }, hold: { reached: reachedP, release } };
}

/** Resolves when the hold is released or the signal aborts (a closing server lets every hold go). */
function releasedOrAborted(released: Promise<void>, signal: AbortSignal): Promise<void> {
  return Promise.race([released, new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })))]);
}

/**
 * Where a POST /prompt's connection breaks: before the prompt is queued (it never reached the
 * queue), or after (queued, but the answer is lost on the way back).
 */
export type PromptPostBreak = 'before_queueing' | 'after_queueing';

/** How /view misbehaves: trickling the file, or sending far more than the file. */
export type ViewFault =
  | { kind: 'trickle'; bytesPerChunk: number; everyMs: number }
  | { kind: 'oversize'; bytes: number; declareLength: boolean };

export const OOM_MESSAGE = 'Allocation on device ';
export const OOM_TYPE = 'torch.OutOfMemoryError';

export class SimulatorFaults {
  private nodeFaults: NodeFault[] = [];
  private stepHolds: StepHold[] = [];
  private view: ViewFault | undefined;
  private outcomeHolds = new Map<string, PendingHold>();
  private promptBreaks: PromptPostBreak[] = [];
  private viewHolds: Array<PendingHold & { afterBytes: number }> = [];
  private historyDelayMs = 0;

  constructor(private readonly actions: FaultActions) {}

  /** The node raises `message` as `exceptionType` (default RuntimeError) -> execution_error. */
  failNode(match: NodeMatch, message = 'simulated failure', exceptionType = 'RuntimeError'): void {
    this.nodeFaults.push({ match, failure: { message, exceptionType } });
  }

  /**
   * The node blocks execution with a message (an ExecutionBlocker): ComfyUI reports it as a
   * non-terminal `execution_error` of type ExecutionBlocked, skips what depends on the node, and
   * the run goes on to success.
   */
  blockNode(match: NodeMatch, message = 'blocked by the test'): void {
    this.nodeFaults.push({ match, block: message });
  }

  /** Like a CUDA OOM: torch.OutOfMemoryError, and the server appends its memory tips. */
  failWithOutOfMemory(match: NodeMatch): void {
    this.failNode(match, `${OOM_MESSAGE}0 would exceed allowed memory. (out of memory)`, OOM_TYPE);
  }

  /** The node takes `delayMs` longer before it runs. */
  slowNode(match: NodeMatch, delayMs: number): void {
    this.nodeFaults.push({ match, delayMs });
  }

  /**
   * GET /view sends `bytesPerChunk` bytes every `everyMs` (timed on the global timers, so a fake
   * clock moves it): a proxy or a saturated link trickling the file.
   */
  trickleViews(bytesPerChunk: number, everyMs: number): void {
    this.view = { kind: 'trickle', bytesPerChunk, everyMs };
  }

  /**
   * GET /view answers `bytes` bytes (the file, then zeros): with that Content-Length, or chunked
   * without one (`declareLength` false), as a malicious or broken server could.
   */
  oversizeViews(bytes: number, declareLength = true): void {
    this.view = { kind: 'oversize', bytes, declareLength };
  }

  clearViewFaults(): void {
    this.view = undefined;
  }

  /** Internal: how /view misbehaves now, if at all. */
  get viewFault(): ViewFault | undefined {
    return this.view;
  }

  /**
   * The worker takes a finished prompt out of the queue `ms` before it writes the history entry
   * (a fork or proxy that stores history apart from the queue): for that long the prompt is in
   * neither /queue nor /history, although nothing removed it. 0 restores ComfyUI's order.
   */
  delayHistoryWrite(ms: number): void {
    this.historyDelayMs = ms;
  }

  /** Internal: the gap between leaving the queue and the history entry. */
  get historyGapMs(): number {
    return this.historyDelayMs;
  }

  clearNodeFaults(): void {
    this.nodeFaults = [];
  }

  /** Internal: what applies to this node. */
  forNode(nodeId: string, classType: string): { failure?: NodeFault['failure']; block?: string; delayMs: number } {
    const hits = this.nodeFaults.filter((f) => (f.match.nodeId === undefined || f.match.nodeId === nodeId) && (f.match.classType === undefined || f.match.classType === classType));
    return {
      failure: hits.find((f) => f.failure)?.failure,
      block: hits.find((f) => f.block !== undefined)?.block,
      delayMs: hits.reduce((sum, f) => sum + (f.delayMs ?? 0), 0),
    };
  }

  /**
   * Hold a node before a progress step until release(), so a test can act between two steps
   * however slow the machine is; `reached` resolves once the step is waiting. The step's interrupt
   * check comes after the hold, as ComfyUI checks in the progress callback.
   */
  holdStep(match: StepMatch): { reached: Promise<void>; release(): void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const hold: StepHold = { ...match, reached, released: new Promise<void>((r) => (release = r)) };
    this.stepHolds.push(hold);
    return {
      reached: reachedP,
      release: () => {
        this.stepHolds = this.stepHolds.filter((h) => h !== hold);
        release();
      },
    };
  }

  /** Internal: the executor waits here before each progress step (an abort, e.g. close, lets it go). */
  async beforeStep(promptId: string, nodeId: string, value: number, signal: AbortSignal): Promise<void> {
    for (const hold of this.stepHolds.filter((h) => h.promptId === promptId && h.nodeId === nodeId && value >= h.value)) {
      hold.reached();
      await Promise.race([hold.released, new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })))]);
    }
  }

  /**
   * Hold a prompt after its last node ran (its `executed` frames sent) and before its outcome
   * (`execution_success`) until release(): the moment between the two, where a client that
   * already holds the outputs does not yet know the run is over.
   */
  holdOutcome(promptId: string): Hold {
    const { pending, hold } = pendingHold();
    this.outcomeHolds.set(promptId, pending);
    return {
      reached: hold.reached,
      release: () => {
        this.outcomeHolds.delete(promptId);
        hold.release();
      },
    };
  }

  /** Internal: the executor waits here before a successful prompt's execution_success. */
  async beforeOutcome(promptId: string, signal: AbortSignal): Promise<void> {
    const hold = this.outcomeHolds.get(promptId);
    if (!hold) return;
    hold.reached();
    await releasedOrAborted(hold.released, signal);
  }

  /**
   * The next GET /view (one request only) sends its headers and the first `afterBytes` bytes of
   * the file (never the last byte), then waits until release() (or until the client goes away) before the rest: a
   * download caught in the middle, for a test to cut the connection there.
   */
  holdView(afterBytes: number): Hold {
    const { pending, hold } = pendingHold();
    const entry = { ...pending, afterBytes };
    this.viewHolds.push(entry);
    return {
      reached: hold.reached,
      release: () => {
        this.viewHolds = this.viewHolds.filter((h) => h !== entry);
        hold.release();
      },
    };
  }

  /** Internal: the hold the next /view takes, if any (each is taken once). */
  takeViewHold(): { afterBytes: number; reached(): void; released: Promise<void> } | undefined {
    return this.viewHolds.shift();
  }

  /**
   * The next POST /prompt (one request only) has its connection reset instead of an answer,
   * before or after its prompt is queued: a network that drops at the worst moment.
   */
  breakNextPromptPost(when: PromptPostBreak): void {
    this.promptBreaks.push(when);
  }

  /** Internal: the break the next POST /prompt takes, if any. */
  takePromptBreak(): PromptPostBreak | undefined {
    return this.promptBreaks.shift();
  }

  /** Send a raw (e.g. malformed) text or binary frame to every connected socket. */
  sendRawFrame(frame: string | Buffer): void {
    this.actions.sendRaw(frame);
  }

  /** Unclean close of every socket (the client sees 1006). */
  dropSockets(): void {
    this.actions.dropSockets();
  }

  /** Sockets stay open but go silent and stop answering pings; new upgrades hang. */
  stallSockets(): void {
    this.actions.stallSockets();
  }

  unstallSockets(): void {
    this.actions.unstallSockets();
  }

  /**
   * Every WebSocket message is replaced by a malformed frame, on open sockets and new ones alike,
   * while pings are still answered: a broken proxy or a hostile server that looks alive.
   */
  garbleSockets(garbled = true): void {
    this.actions.garbleSockets(garbled);
  }

  /** A server restart: sockets dropped, queue, history, cache and temp files gone, counter 0. */
  restart(): Promise<void> {
    return this.actions.restart();
  }

  pauseWorker(): void {
    this.actions.setWorkerPaused(true);
  }

  resumeWorker(): void {
    this.actions.setWorkerPaused(false);
  }
}
