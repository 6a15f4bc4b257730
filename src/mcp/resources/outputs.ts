import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { resolveOutputFile, type ResolvedOutput } from '../../jobs/output-folder.js';
import { listJobFiles, listJobFolders } from '../../jobs/output-listing.js';
import { outputFiles, outputPromptIds } from '../completions.js';
import type { McpDeps } from '../deps.js';
import { classifyFile, outputUri } from '../outputs.js';
import { PATH, PROMPT_ID } from '../../input-policy/index.js';
import { notFound, variable, OUTPUT_TEMPLATE } from './uri.js';

/**
 * `comfywire://outputs/{prompt_id}/{file}`: any file under <outputDir>/<prompt_id>/, whichever
 * comfywire process downloaded it. `file` is the path below the job's folder with its ComfyUI
 * subfolder (`comfywire/sd15_00001_.png`), percent-encoded as one segment because the SDK's
 * matcher stops at `/`. Reads are confined to the output folder (src/jobs/output-folder.ts).
 */

/** Larger files are read from disk by path: base64 in one JSON-RPC message would be too much. */
export const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

/** resources/list shows the newest jobs' files; completion reaches the others. */
const MAX_LISTED_JOBS = 100;
const MAX_LISTED_FILES = 1000;

/**
 * The file a URI names. Links made before subfolders were part of the URI carry only the file
 * name: one file of that name anywhere below the job's folder is taken to be it.
 */
async function locate(outputDir: string, promptId: string, file: string): Promise<ResolvedOutput> {
  const direct = await resolveOutputFile(outputDir, promptId, file);
  if (!('missing' in direct) || file.includes('/')) return direct;
  const same = (await listJobFiles(outputDir, promptId)).filter((f) => basename(f.rel) === file);
  if (same.length === 1) return resolveOutputFile(outputDir, promptId, same[0]!.rel);
  if (same.length > 1) {
    return { missing: `several files are named ${file}: ${same.map((f) => outputUri(promptId, f.rel)).join(', ')}` };
  }
  return direct;
}

export function registerOutputResources(server: McpServer, deps: McpDeps): void {
  const outputDir = deps.config.outputDir;
  const template = new ResourceTemplate(OUTPUT_TEMPLATE, {
    list: async () => {
      const resources = [];
      for (const { promptId } of (await listJobFolders(outputDir)).slice(0, MAX_LISTED_JOBS)) {
        for (const f of await listJobFiles(outputDir, promptId, MAX_LISTED_FILES - resources.length)) {
          resources.push({
            uri: outputUri(promptId, f.rel),
            name: f.rel,
            title: `${f.rel} (job ${promptId.slice(0, 8)})`,
            mimeType: classifyFile(f.rel).mime,
            size: f.bytes,
          });
        }
        if (resources.length >= MAX_LISTED_FILES) break;
      }
      return { resources };
    },
    // Every match: the SDK sends the first 100 with the total and hasMore.
    complete: { prompt_id: outputPromptIds(deps), file: outputFiles(deps) },
  });

  server.registerResource(
    'output',
    template,
    {
      title: 'Output file',
      description:
        'A file a job produced, as downloaded into the output folder (images, video, audio, text). `file` is its path below ' +
        'the job folder, ComfyUI subfolder included, percent-encoded (comfywire%2Fsd15_00001_.png).',
    },
    async (uri, vars) => {
      const promptId = variable(vars['prompt_id'], uri.href, 'prompt_id', PROMPT_ID);
      const file = variable(vars['file'], uri.href, 'file', { ...PATH, expected: 'a file below the job folder, e.g. comfywire%2Fsd15_00001_.png' });
      const found = await locate(outputDir, promptId, file);
      if ('missing' in found) {
        throw notFound(uri.href, `${found.missing}. get_workflow_status with prompt_id ${promptId} lists the job's files (and fetches missing ones).`);
      }
      if (found.bytes > MAX_OUTPUT_BYTES) {
        throw notFound(uri.href, `the file is ${found.bytes} bytes, over the ${MAX_OUTPUT_BYTES}-byte limit for resources; read it from disk at ${found.path}`);
      }
      const { kind, mime } = classifyFile(file);
      const data = await readFile(found.path);
      const content = kind === 'text' ? { text: data.toString('utf8') } : { blob: data.toString('base64') };
      return { contents: [{ uri: uri.href, mimeType: mime, ...content }] };
    },
  );
}
