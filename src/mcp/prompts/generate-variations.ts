import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { z } from 'zod';
import { identifierField, NAME, textField } from '../../input-policy/index.js';
import { checkpointNames, workflowNames } from '../completions.js';
import type { McpDeps } from '../deps.js';
import { sharedSchema } from '../shared-schemas.js';
import { templateOverview, userText } from './context.js';

export const GENERATE_VARIATIONS = 'generate_variations';

const DEFAULT_COUNT = 4;
/** Each variation is a full render; more than this floods the queue and the context. */
const MAX_COUNT = 8;

/** Made per (config, engine) and shared by their servers: completable() marks the schema object itself. The idea is prompt-like text: the prompt's rule and limit. */
const argsSchema = (deps: McpDeps) => ({
  idea: textField({ field: 'idea', maxChars: deps.config.limits.promptChars, required: true }, 'Describe what to depict.').describe(
    'What to depict, in a sentence or two, e.g. "a lighthouse on a cliff at dusk".',
  ),
  count: z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .optional()
    .describe(`How many variations to render (1-${MAX_COUNT}, default ${DEFAULT_COUNT}).`),
  workflow: completable(
    identifierField('workflow', { ...NAME, expected: 'a workflow template name, e.g. sd15-txt2img' }).optional().describe('Template to use; the configured default when omitted. list_workflows shows them.'),
    workflowNames(deps),
  ),
  checkpoint: completable(
    identifierField('checkpoint', { ...NAME, expected: 'a checkpoint file name as list_models shows it' })
      .optional()
      .describe("Checkpoint file for every variation, as ComfyUI names it; the workflow's own when omitted."),
    checkpointNames(deps),
  ),
});

export function countFrom(raw: string | undefined): number {
  const n = raw === undefined ? DEFAULT_COUNT : Number.parseInt(raw, 10);
  return Math.min(MAX_COUNT, Math.max(1, Number.isFinite(n) ? n : DEFAULT_COUNT));
}

export function registerGenerateVariationsPrompt(server: McpServer, deps: McpDeps): void {
  server.registerPrompt(
    GENERATE_VARIATIONS,
    {
      title: 'Generate variations of an idea',
      description:
        'Render several variations of one idea with generate_image (different seeds and wording), then compare them and recommend one.',
      argsSchema: sharedSchema(GENERATE_VARIATIONS, deps, () => argsSchema(deps)),
    },
    async ({ idea, count, workflow, checkpoint }) => {
      const n = countFrom(count);
      const template = workflow ?? deps.config.defaultWorkflow;
      const text = [
        `Generate ${n} variations of this idea with the comfywire tools, then compare them.`,
        '',
        `Idea: ${idea}`,
        `Workflow template: ${template}`,
        ...(checkpoint ? [`Checkpoint: ${checkpoint}`] : []),
        '',
        'Available templates (name, description, parameters):',
        await templateOverview(deps),
        '',
        'Steps:',
        `1. Write ${n} distinct prompts for the idea: vary composition, lighting, style or mood, one change per prompt, and keep the subject the same. Reuse one negative_prompt for all of them.`,
        `2. Call generate_image once per prompt with workflow "${template}"${checkpoint ? ` and "checkpoint": ${JSON.stringify(checkpoint)}` : ''}. Leave seed empty so each run draws its own; note the seed each result reports so a favourite can be reproduced exactly.`,
        '   The renders queue in ComfyUI one after another; if a call returns a handle instead of images (the render outlived the wait), follow it with get_workflow_status.',
        '3. Look at the inline previews and compare them side by side: faithfulness to the idea, composition, artefacts (hands, text, anatomy), overall quality.',
        '4. Recommend the best one and say why, with its prompt_id, seed, prompt and file path. Offer a next step: more variations around the winner (same seed, small wording changes) or a higher-resolution render.',
        'If a call fails, read its error text: it says what to change (e.g. an unknown parameter lists the valid ones).',
      ].join('\n');
      return {
        description: `${n} variations of "${idea}" with ${template}`,
        messages: [userText(text)],
      };
    },
  );
}
