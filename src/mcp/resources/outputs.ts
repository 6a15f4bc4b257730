import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { classifyFile, outputFiles } from '../outputs.js';
import { knownJobs } from './jobs.js';
import { notFound, uriPart, variable, OUTPUT_TEMPLATE } from './uri.js';

/**
 * `comfywire://outputs/{prompt_id}/{filename}`: a file the engine downloaded into
 * <outputDir>/<prompt_id>/. Both parts are single path segments and the real path must stay inside
 * the output folder, so no URI (`..`, encoded slashes, symlinks) reads anything else.
 */

/** Larger files are read from disk by path: base64 in one JSON-RPC message would be too much. */
export const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

const SEGMENT = /^(?!\.{1,2}$)[^/\\\0]+$/;

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The real path of an output file, or a not-found error; never a path outside the output folder.
 * `recorded` is where the engine says it put the file (a ComfyUI subfolder adds a level below the
 * job's folder); without a record, the file is looked for directly in <outputDir>/<prompt_id>/.
 */
export async function outputPath(outputDir: string, promptId: string, filename: string, uri: string, recorded?: string): Promise<string> {
  if (!SEGMENT.test(promptId) || !SEGMENT.test(filename)) throw notFound(uri, 'not a file in the output folder');
  const root = await realpath(outputDir).catch(() => undefined);
  if (!root) throw notFound(uri, `the output folder ${outputDir} does not exist yet`);
  const real = await realpath(recorded ?? resolve(root, promptId, filename)).catch(() => undefined);
  const jobRoot = await realpath(resolve(root, promptId)).catch(() => undefined);
  if (!real || !jobRoot || !inside(root, real) || !inside(jobRoot, real)) throw notFound(uri, 'no such output file');
  return real;
}

export function registerOutputResources(server: McpServer, deps: McpDeps): void {
  const template = new ResourceTemplate(OUTPUT_TEMPLATE, {
    list: () => ({
      resources: knownJobs(deps).flatMap((state) =>
        outputFiles(state).files.map((f) => ({
          uri: `comfywire://outputs/${uriPart(state.promptId)}/${uriPart(f.filename)}`,
          name: f.filename,
          title: `${f.filename} (job ${state.promptId.slice(0, 8)})`,
          mimeType: f.mime,
          size: f.bytes,
        })),
      ),
    }),
  });

  server.registerResource(
    'output',
    template,
    {
      title: 'Output file',
      description: 'A file a job produced, as downloaded into the output folder (images, video, audio, text).',
    },
    async (uri, vars) => {
      const promptId = variable(vars['prompt_id'], uri.href);
      const filename = variable(vars['filename'], uri.href);
      const state = deps.engine.jobs.get(promptId);
      const recorded = state?.downloads.find((d) => basename(d.path) === filename)?.path;
      const path = await outputPath(deps.config.outputDir, promptId, filename, uri.href, recorded);
      const info = await stat(path);
      if (!info.isFile()) throw notFound(uri.href, 'not a file');
      if (info.size > MAX_OUTPUT_BYTES) {
        throw notFound(uri.href, `the file is ${info.size} bytes, over the ${MAX_OUTPUT_BYTES}-byte limit for resources; read it from disk at ${path}`);
      }
      const { kind, mime } = classifyFile(filename);
      const data = await readFile(path);
      const content = kind === 'text' ? { text: data.toString('utf8') } : { blob: data.toString('base64') };
      return { contents: [{ uri: uri.href, mimeType: mime, ...content }] };
    },
  );
}
