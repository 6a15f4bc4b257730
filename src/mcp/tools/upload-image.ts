import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { identifierField, PATH } from '../../input-policy/index.js';
import type { ToolContext } from '../deps.js';
import { basename } from 'node:path';
import { allowedImage } from '../allowed-paths.js';
import { guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';

export const UPLOAD_IMAGE = 'upload_image';

const inputSchema = {
  path: identifierField('path', { ...PATH, expected: 'the path of a local image file (PNG, JPEG, WebP, GIF, BMP or TIFF)' }).describe(
    'Local image file (PNG, JPEG, WebP, GIF, BMP or TIFF, by content; not hidden; at most COMFYWIRE_UPLOAD_MAX_MB) inside the ' +
      'working directory, the output folder or COMFYWIRE_UPLOAD_DIRS',
  ),
  subfolder: z
    .string()
    .max(128, 'at most 128 characters, a relative folder name such as "comfywire" or "refs/faces"')
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
    guarded(ctx, UPLOAD_IMAGE, async () => {
      const roots = [ctx.cwd, ctx.config.outputDir, ...ctx.uploadDirs];
      const image = await allowedImage(path, roots, ctx.cwd, ctx.config.limits.uploadMaxBytes);
      const source = image.path;
      // The bytes that were checked, not the file read again.
      const file = { data: image.bytes, filename: basename(source) };
      const reply = await ctx.engine.comfy.uploadImage(file, { type: 'input', subfolder, overwrite, signal: extra.signal });
      const stored = reply.subfolder ? `${reply.subfolder}/${reply.name}` : reply.name;
      return okResult(
        `Uploaded ${source} to ComfyUI's ${reply.type} folder as "${stored}". Use that value for a LoadImage input ` +
          '(e.g. generate_image params) or pass the local path as input_image instead.',
        { name: reply.name, subfolder: reply.subfolder, type: reply.type, image: stored, source },
      );
    }, toolCall(ctx, {})),
  );
}
