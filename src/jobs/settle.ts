import { EMPTY, catchError, concat, concatMap, defer, lastValueFrom, of, retry, scan, throwError, timer, type Observable } from 'rxjs';
import type { ComfyClient } from '../comfy/client.js';
import { ComfywireError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { history, lost, outputsUnknown, settled, type JobFact } from '../../streams/job-facts.js';
import { reduceJob, type JobState, type PromptContext } from '../../streams/job-state.js';
import { fetchOutputs } from './download-outputs.js';

/**
 * The end of a job, after its run ended (or the resync decided it did), as facts: /history when
 * the socket left gaps (or the job would otherwise stay "running" for ever), then the downloads of
 * a success into <outputDir>/<prompt_id>/.
 */

/**
 * How often history is read when the end of run arrived before ComfyUI wrote the entry; the waits
 * between reads grow by the delay (0.1, 0.2, 0.3, 0.4 s: reads at 0, 0.1, 0.3, 0.6 and 1 s).
 */
export const HISTORY_RETRIES = 5;
export const HISTORY_RETRY_DELAY_MS = 100;

const NO_HISTORY =
  'ComfyUI ended the run without saying how (its outcome message was not received) and has no history entry for it ' +
  "(history cleared or ComfyUI restarted). Its outputs, if any, are in ComfyUI's output folder.";

export interface SettleDeps {
  client: Pick<ComfyClient, 'getHistory' | 'download'>;
  outputDir: string;
  logger: Logger;
  /** False when the submitter asked for no downloads. */
  download: boolean;
  /** Stops the downloads (the CLI's job timeout, the engine closing); its reason is each file's error. */
  signal?: AbortSignal;
}

const unsure = (s: JobState): boolean => s.status === 'queued' || s.status === 'running';

/** The facts that settle a job whose run is over (the tracker appends `settled`). */
export function settleFacts(state: JobState, ctx: PromptContext, deps: SettleDeps): Observable<JobFact> {
  const downloads = (s: JobState): Observable<JobFact> =>
    s.status === 'success' && deps.download && s.files.length > 0 ? defer(() => fetchOutputs(s, deps)) : EMPTY;
  const needsHistory = state.endedBy !== 'history' && (unsure(state) || (state.status === 'success' && Object.keys(state.outputs).length === 0));
  if (!needsHistory) return downloads(state);
  // What history says decides the downloads: fold its fact ahead to see the files.
  return readHistory(state, deps).pipe(concatMap((fact) => concat(of(fact), downloads(reduceJob(state, fact, ctx, Date.now())))));
}

/** settleFacts folded into the final state, `settled` included (one-shot callers and tests). */
export function settleJob(state: JobState, ctx: PromptContext, deps: SettleDeps): Promise<JobState> {
  const facts$ = concat(settleFacts(state, ctx, deps), of(settled(NO_HISTORY)));
  return lastValueFrom(facts$.pipe(scan((s: JobState, f: JobFact) => reduceJob(s, f, ctx, Date.now()), state)));
}

/**
 * The history entry as a fact, read up to HISTORY_RETRIES times; when there is none and the
 * socket did not tell how the run ended either, the job is lost.
 */
function readHistory(state: JobState, deps: SettleDeps): Observable<JobFact> {
  const id = state.promptId;
  let lastError: string | undefined;
  const read$ = defer(() => deps.client.getHistory(id)).pipe(
    catchError((err: unknown) => {
      lastError = err instanceof ComfywireError ? err.message : describeError(err);
      deps.logger.warn(`history for ${id} unavailable: ${describeError(err)}`);
      return of(undefined);
    }),
    concatMap((entry) => (entry ? of(history(entry)) : throwError(() => new Error('no history entry yet')))),
  );
  return read$.pipe(
    // No wait after the last read: nothing would read history after it.
    retry({ count: HISTORY_RETRIES - 1, delay: (_err, attempt) => timer(HISTORY_RETRY_DELAY_MS * attempt) }),
    catchError(() => (unsure(state) ? of(lost(NO_HISTORY)) : of(outputsUnknown(unknownOutputs(lastError))))),
  );
}

/**
 * Only a success reaches here (settleFacts reads history for a success only when the socket gave
 * no outputs): without history nobody can tell whether it made files, so it must not say "none".
 */
function unknownOutputs(historyError: string | undefined): string {
  const why = historyError
    ? `ComfyUI's history could not be read (${historyError.slice(0, 300)})`
    : 'ComfyUI has no history entry for it (history cleared or ComfyUI restarted)';
  return `The socket did not deliver the run's outputs and ${why}.`;
}
