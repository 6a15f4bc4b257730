import { EMPTY, Subject, throwError, type Observable, type Subscription } from 'rxjs';
import { isEndOfRun, promptIdOf, type ComfyEvent } from './messages.js';

/**
 * Routes the one shared event stream to per-prompt streams with a single map lookup per event.
 * (A `filter` per tracked prompt would cost O(jobs) per message; with a thousand jobs in flight
 * that is the difference between 100k and 100 messages per second.)
 *
 * A route completes right after its prompt's end of run (`executing {node: null, prompt_id}`), and
 * its entry is dropped then, so finished prompts hold nothing here.
 */
export class PromptRouter {
  private readonly routes = new Map<string, Subject<ComfyEvent>>();
  private readonly subscription: Subscription;
  /** Type-1 previews carry no prompt id; ComfyUI sends them right after that prompt's `progress`. */
  private lastProgressPrompt: string | undefined;
  /** How the shared stream ended (or close()): a route asked for afterwards ends the same way at once. */
  private end: { error: unknown } | 'complete' | undefined;

  constructor(events$: Observable<ComfyEvent>) {
    this.subscription = events$.subscribe({
      next: (event) => this.dispatch(event),
      error: (err: unknown) => this.endAll({ error: err }),
      complete: () => this.endAll('complete'),
    });
  }

  /** True once no event will be routed any more: the shared stream ended or close() was called. */
  get ended(): boolean {
    return this.end !== undefined;
  }

  /** The events of one prompt, from now on. Subscribe before submitting the prompt. */
  route(promptId: string): Observable<ComfyEvent> {
    const end = this.end;
    // Nothing will ever come: a route that stayed open would leave its job waiting for ever.
    if (end) return end === 'complete' ? EMPTY : throwError(() => end.error);
    let subject = this.routes.get(promptId);
    if (!subject) {
      subject = new Subject<ComfyEvent>();
      this.routes.set(promptId, subject);
    }
    return subject.asObservable();
  }

  /** End a route early (the job was settled another way, e.g. from history after a reconnect). */
  release(promptId: string): void {
    const subject = this.routes.get(promptId);
    if (!subject) return;
    this.routes.delete(promptId);
    subject.complete();
  }

  get size(): number {
    return this.routes.size;
  }

  close(): void {
    this.subscription.unsubscribe();
    this.endAll('complete');
  }

  private dispatch(event: ComfyEvent): void {
    let promptId = promptIdOf(event);
    if (event.type === 'progress' && promptId !== undefined) this.lastProgressPrompt = promptId;
    if (promptId === undefined && event.type === 'preview') promptId = this.lastProgressPrompt;
    if (promptId === undefined) return;
    const subject = this.routes.get(promptId);
    if (!subject) return;
    subject.next(event);
    if (isEndOfRun(event)) {
      this.routes.delete(promptId);
      if (this.lastProgressPrompt === promptId) this.lastProgressPrompt = undefined;
      subject.complete();
    }
  }

  private endAll(end: { error: unknown } | 'complete'): void {
    this.end ??= end;
    const subjects = [...this.routes.values()];
    this.routes.clear();
    for (const s of subjects) {
      if (end === 'complete') s.complete();
      else s.error(end.error);
    }
  }
}
