import { lstat, rm } from 'node:fs/promises';
import type { ComfyClient } from '../comfy/client.js';
import { describeError } from '../errors.js';
import { downloaded, type DownloadedFact } from '../../streams/job-facts.js';
import { withDownloads, type DownloadedFile, type JobState } from '../../streams/job-state.js';
import { expectedPath, jobFolder, notDownloaded } from './output-folder.js';

/**
 * Downloads a job's outputs that are not downloaded yet into <outputDir>/<prompt_id>/, the
 * ComfyUI subfolder kept (src/comfy/download.ts confines every write to that folder). Failures are
 * recorded per file as `<filename>: <why>` in downloadErrors, never thrown.
 */

export interface DownloadOutputsDeps {
  client: Pick<ComfyClient, 'download'>;
  outputDir: string;
  signal?: AbortSignal;
  /**
   * Filling in another process's job: if the file's own name appeared meanwhile (that process, or a
   * second status call, downloaded the same ComfyUI file), keep that one and drop ours rather than
   * leave a `name (1)` copy.
   */
  preferExisting?: boolean;
}

/** The job's state with its missing outputs downloaded (the `downloaded` fact folded in). */
export async function downloadOutputs(state: JobState, deps: DownloadOutputsDeps): Promise<JobState> {
  const { data } = await fetchOutputs(state, deps);
  return withDownloads(state, data.files, data.errors);
}

/** Download what is missing; the `downloaded` fact says what came and what failed. */
export async function fetchOutputs(state: JobState, deps: DownloadOutputsDeps): Promise<DownloadedFact> {
  const dest = jobFolder(deps.outputDir, state.promptId);
  const downloads: DownloadedFile[] = [];
  const errors: string[] = [];
  for (const file of notDownloaded(state)) {
    try {
      let got = await deps.client.download(file, dest, deps.signal ? { signal: deps.signal } : {});
      const wanted = expectedPath(deps.outputDir, state.promptId, file);
      if (deps.preferExisting && wanted && got.path !== wanted) {
        const there = await lstat(wanted).catch(() => undefined);
        if (there?.isFile()) {
          await rm(got.path, { force: true });
          got = { path: wanted, bytes: there.size };
        }
      }
      downloads.push({ nodeId: file.nodeId, filename: file.filename, subfolder: file.subfolder, type: file.type, ...got });
    } catch (err) {
      errors.push(`${file.filename}: ${describeError(err)}`);
    }
  }
  return downloaded(downloads, errors);
}
