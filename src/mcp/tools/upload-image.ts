import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ToolContext } from '../deps.js';
import { allowedFile } from '../allowed-paths.js';
import { guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';

export const UPLOAD_IMAGE = 'upload_image';

const inputSchema = {
  path: z
    .string()
    .min(1)
    .describe('Local image file (PNG/JPEG/WebP) inside the working directory, the output folder or COMFYWIRE_UPLOAD_DIRS'),
  subfolder: z
    .string()
    .regex(/^[\w.-]+(\/[\w.-]+)*$/, 'a relative folder name such as "comfywire" or "refs/faces"')
    .refine((s) => !s.split('/').includes('..'), 'must not contain ".."')
    .default('comfywire')
    .describe("Subfolder of ComfyUI's input folder to store it in (default comfywire)"),
  overwrite: z.boolean().default(false).describe('Replace a file of the same name instead of getting a renamed copy'),
};

const outputSchema = {
  name: z.string().describe('Name ComfyUI stored the file under (it may differ from the original)'),
  subfolder: z.string(),
  type: z.string(),
  image: z.string().describe('Value to give a LoadImage input: subfolder/name'),
  source: z.string().describe('Absolute path of the file that was uploaded'),
};

const config = {
  title: 'Upload image',
  description:
    "Upload a local image into ComfyUI's input folder so a workflow's LoadImage node can use it. Returns the name to use " +
    '(generate_image with input_image does this by itself). Only files inside the allowed folders can be read.',
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
};

export function registerUploadImageTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(UPLOAD_IMAGE, config, async ({ path, subfolder, overwrite }, extra) =>
    guarded(ctx.logger, UPLOAD_IMAGE, async () => {
      const roots = [ctx.cwd, ctx.config.outputDir, ...ctx.uploadDirs];
      const source = await allowedFile(path, roots, ctx.cwd, 'image');
      const reply = await ctx.engine.comfy.uploadImage({ path: source }, { type: 'input', subfolder, overwrite, signal: extra.signal });
      const image = reply.subfolder ? `${reply.subfolder}/${reply.name}` : reply.name;
      return okResult(
        `Uploaded ${source} to ComfyUI's ${reply.type} folder as "${image}". Use that value for a LoadImage input ` +
          '(e.g. generate_image params) or pass the local path as input_image instead.',
        { name: reply.name, subfolder: reply.subfolder, type: reply.type, image, source },
      );
    }, toolCall(ctx, {})),
  );
}
