import { sleep } from './clock.js';

/**
 * The checkpoint a ComfyUI process holds in (V)RAM. Real ComfyUI keeps the last model it loaded;
 * a run that needs another one pays a load first, a run with the same one does not. The fleet's
 * dispatch prefers a host whose last run used the requested checkpoint: this is what makes that
 * preference measurable on simulated hosts.
 */
export class ModelMemory {
  private current: string | undefined;

  constructor(private readonly loadMs: number) {}

  /** The checkpoint loaded last; undefined after start-up, a restart or an unload. */
  get loaded(): string | undefined {
    return this.current;
  }

  /** Load `name` if it is not the one held: `loadMs` on the simulator's clock, cut short by `signal`. */
  async load(name: string, signal: AbortSignal): Promise<void> {
    if (name === this.current) return;
    await sleep(this.loadMs, signal);
    // A load cut short by a restart or close leaves nothing loaded.
    this.current = signal.aborted ? undefined : name;
  }

  /** unload_models (or free_memory), a restart: the next run loads from disk again. */
  forget(): void {
    this.current = undefined;
  }
}
