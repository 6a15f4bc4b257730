import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ComfyHttpError } from '../../errors.js';
import { FOLDER, identifierField } from '../../input-policy/index.js';
import { nearest } from '../../workflows/nearest.js';
import type { ToolContext } from '../deps.js';
import { failure, guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';
import { askEveryHost, type HostAnswer } from '../host-reads.js';

export const LIST_MODELS = 'list_models';

/** The text lists this many names; structured content always has all of them. */
const MAX_LISTED = 200;

const inputSchema = {
  folder: identifierField('folder', FOLDER)
    .optional()
    .describe('A model folder such as "checkpoints", "loras" or "vae". Omit it to list the folders.'),
};

const outputSchema = {
  folders: z.array(z.string()).optional().describe('Model folder names (when no folder was given)'),
  folder: z.string().optional(),
  files: z.array(z.string()).optional().describe('Model files in the folder, as workflows must name them (with several hosts: on any of them)'),
  hosts_of: z
    .array(z.object({ file: z.string(), hosts: z.array(z.string()) }))
    .optional()
    .describe('With several ComfyUI hosts: which hosts have each file (a job naming it can only run there)'),
  unreachable: z.array(z.string()).optional().describe('With several hosts: hosts that did not answer, and why'),
};

const config = {
  title: 'List models',
  description:
    "List ComfyUI's model folders, or the model files in one folder (checkpoints, loras, vae, controlnet, upscale_models...). " +
    'Use the exact names as values for checkpoint or other model parameters of generate_image. With several ComfyUI hosts: ' +
    'the files of every host, each with the hosts that have it.',
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export function registerListModelsTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(LIST_MODELS, config, async ({ folder }) =>
    guarded(ctx, LIST_MODELS, async () => {
      // Read at call time: the stdio server is registered before its engine is made.
      if (ctx.engine.hostList().length > 1) return fleetModels(ctx, folder);
      const client = ctx.engine.comfy;
      if (folder === undefined) {
        const folders = await client.listModelFolders();
        return okResult(`Model folders (${folders.length}): ${folders.join(', ')}\nCall list_models with folder to see the files.`, { folders });
      }
      let files: string[];
      try {
        files = await client.listModels(folder);
      } catch (error) {
        if (!(error instanceof ComfyHttpError && error.status === 404)) throw error;
        const folders = await client.listModelFolders().catch(() => [] as string[]);
        return noSuchFolder(folder, folders);
      }
      const shown = files.slice(0, MAX_LISTED);
      const more = files.length > shown.length ? `\n… and ${files.length - shown.length} more (see structured content).` : '';
      const text = files.length
        ? `${files.length} file(s) in ${folder}:\n${shown.map((f) => `- ${f}`).join('\n')}${more}`
        : `The ${folder} folder is empty: put model files into ComfyUI's models/${folder} folder.`;
      return okResult(text, { folder, files });
    }, toolCall(ctx, { folder })),
  );
}

function noSuchFolder(folder: string, folders: string[]) {
  const near = nearest(folder, folders);
  return failure(
    `ComfyUI has no model folder "${folder}".` +
      (near.length ? ` Did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '') +
      (folders.length ? ` Folders: ${folders.join(', ')}.` : ' Call list_models without a folder to see them.'),
  );
}

/** A host that lacks the folder has none of its files: not an error while another host has it. */
const NO_FOLDER = Symbol('no such folder');

function unreachableOf(answers: HostAnswer<unknown>[]): string[] {
  return answers.flatMap((a) => (a.ok ? [] : [`${a.host.name}: ${a.error}`]));
}

/** Several hosts: the union of what they have, each name with the hosts that have it. */
async function fleetModels(ctx: ToolContext, folder: string | undefined) {
  if (folder === undefined) {
    const answers = await askEveryHost(ctx.engine, (comfy) => comfy.listModelFolders());
    const folders = [...new Set(answers.flatMap((a) => (a.ok ? a.value : [])))];
    const unreachable = unreachableOf(answers);
    const note = unreachable.length ? `\nNot answering: ${unreachable.join('; ')}.` : '';
    return okResult(
      `Model folders (${folders.length}) over ${answers.length} hosts: ${folders.join(', ')}\nCall list_models with folder to see the files and which hosts have them.${note}`,
      { folders, ...(unreachable.length ? { unreachable } : {}) },
    );
  }
  const answers = await askEveryHost(ctx.engine, async (comfy) => {
    try {
      return await comfy.listModels(folder);
    } catch (error) {
      if (error instanceof ComfyHttpError && error.status === 404) return NO_FOLDER;
      throw error;
    }
  });
  const unreachable = unreachableOf(answers);
  const lists = answers.flatMap((a) => (a.ok && a.value !== NO_FOLDER ? [{ host: a.host.name, files: a.value }] : []));
  if (lists.length === 0 && answers.some((a) => a.ok)) {
    const folders = await askEveryHost(ctx.engine, (comfy) => comfy.listModelFolders());
    return noSuchFolder(folder, [...new Set(folders.flatMap((a) => (a.ok ? a.value : [])))]);
  }
  if (lists.length === 0) return failure(`No ComfyUI host answered: ${unreachable.join('; ')}. get_system_stats shows each host's state.`);
  const where = new Map<string, string[]>();
  for (const { host, files } of lists) for (const f of files) where.set(f, [...(where.get(f) ?? []), host]);
  const files = [...where.keys()];
  const hostsOf = files.map((file) => ({ file, hosts: where.get(file)! }));
  const everyHost = answers.length;
  const shown = hostsOf.slice(0, MAX_LISTED);
  const more = files.length > shown.length ? `\n… and ${files.length - shown.length} more (see structured content).` : '';
  const lines = shown.map((e) => `- ${e.file} (${e.hosts.length === everyHost ? 'every host' : e.hosts.join(', ')})`);
  const note = unreachable.length ? `\nNot answering (their files are not listed): ${unreachable.join('; ')}.` : '';
  const text = files.length
    ? `${files.length} file(s) in ${folder} over ${everyHost} hosts:\n${lines.join('\n')}${more}${note}`
    : `The ${folder} folder is empty on every host that answered: put model files into ComfyUI's models/${folder} folder.${note}`;
  return okResult(text, { folder, files, hosts_of: hostsOf, ...(unreachable.length ? { unreachable } : {}) });
}
