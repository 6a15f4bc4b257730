import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ComfyHttpError } from '../../errors.js';
import { FOLDER, identifierField } from '../../input-policy/index.js';
import { nearest } from '../../workflows/nearest.js';
import type { ToolContext } from '../deps.js';
import { failure, guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';

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
  files: z.array(z.string()).optional().describe('Model files in the folder, as workflows must name them'),
};

const config = {
  title: 'List models',
  description:
    "List ComfyUI's model folders, or the model files in one folder (checkpoints, loras, vae, controlnet, upscale_models...). " +
    'Use the exact names as values for checkpoint or other model parameters of generate_image.',
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export function registerListModelsTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(LIST_MODELS, config, async ({ folder }) =>
    guarded(ctx, LIST_MODELS, async () => {
      // Read at call time: the stdio server is registered before its engine is made.
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
        const near = nearest(folder, folders);
        return failure(
          `ComfyUI has no model folder "${folder}".` +
            (near.length ? ` Did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '') +
            (folders.length ? ` Folders: ${folders.join(', ')}.` : ' Call list_models without a folder to see them.'),
        );
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
