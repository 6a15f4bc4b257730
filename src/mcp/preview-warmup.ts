import { take, type Subscription } from 'rxjs';
import type { ComfyEngine } from '../engine-api.js';
import { warmPreviewEncoder } from './inline-image.js';

/**
 * The server warms its preview encoder (inline-image.ts) in the background once the engine hears
 * from ComfyUI: its first frame (the status sent on connect) says the socket is up and start-up is
 * behind us, and an agent that just listed the tools is rarely rendering yet. Earlier would hold
 * up the first answer; at a job's submission it would stall that job's progress; at its end, its
 * answer. Once per process, however many servers (HTTP sessions) share the engine.
 */
export function warmPreviewsOnceConnected(engine: Pick<ComfyEngine, 'events$'>): Subscription {
  return engine.events$.pipe(take(1)).subscribe(() => void warmPreviewEncoder());
}
