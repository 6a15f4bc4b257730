import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { identifierField, PROMPT_ID } from '../../input-policy/index.js';
import { recentPromptIds } from '../completions.js';
import type { McpDeps } from '../deps.js';
import { sharedSchema } from '../shared-schemas.js';
import { describeFailure, lastFailure, userText } from './context.js';

export const DEBUG_LAST_FAILURE = 'debug_last_failure';

/** completable() marks the schema object itself, so it is made per engine (its completer reads that engine's jobs) and shared. */
const argsSchema = (deps: McpDeps) => ({
  prompt_id: completable(
    identifierField('prompt_id', PROMPT_ID)
      .optional()
      .describe('The failed job to debug; the most recent failed job of this server when omitted.'),
    recentPromptIds(deps, { failedFirst: true }),
  ),
});

export function registerDebugLastFailurePrompt(server: McpServer, deps: McpDeps): void {
  server.registerPrompt(
    DEBUG_LAST_FAILURE,
    {
      title: 'Debug the last failed run',
      description:
        'Find the most recent failed ComfyUI job (or the one named), read its full status with get_workflow_status, and explain the cause and the fix.',
      argsSchema: sharedSchema(DEBUG_LAST_FAILURE, deps, () => argsSchema(deps)),
    },
    async ({ prompt_id }) => {
      const known = prompt_id ? deps.engine.jobState(prompt_id) : lastFailure(deps);
      const id = prompt_id ?? known?.promptId;
      const lines: string[] = [];
      if (id === undefined) {
        lines.push(
          'This comfywire server has not seen a failed job since it started.',
          'Call get_workflow_status without a prompt_id: it lists the queue and the recent jobs. Pick the newest one whose status is "error" and continue with it as below; if none failed, say so and stop.',
        );
      } else {
        lines.push(`Debug the failed ComfyUI job ${id}.`);
        if (known) lines.push('', 'What comfywire recorded:', describeFailure(known));
        else lines.push('', 'This server did not submit it (or has forgotten it); ComfyUI\'s history still knows it if the server has not restarted.');
        lines.push('', `Call get_workflow_status with prompt_id "${id}" for the full diagnosis: the failing node, its inputs, the traceback and concrete hints.`);
      }
      lines.push(
        '',
        'Then explain, briefly:',
        '1. What failed, in plain words (which node, which input, what the exception means).',
        '2. The most likely cause: a model file that does not exist (compare with list_models), out of GPU memory (smaller width/height or batch_size), a node class that is not installed (which custom node pack provides it), or an invalid input value.',
        '3. The fix, as concrete generate_image arguments (or a change to the template) that should work, and offer to run it.',
      );
      return {
        description: id ? `Debug job ${id}` : 'Find and debug the last failed job',
        messages: [userText(lines.join('\n'))],
      };
    },
  );
}
