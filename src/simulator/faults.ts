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
  restart(): Promise<void>;
  setWorkerPaused(paused: boolean): void;
}

export const OOM_MESSAGE = 'Allocation on device ';
export const OOM_TYPE = 'torch.OutOfMemoryError';

export class SimulatorFaults {
  private nodeFaults: NodeFault[] = [];

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
