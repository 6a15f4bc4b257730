/**
 * completion/complete: the values a client offers as someone types a prompt argument or a
 * resource-template variable. The SDK routes each request to the `completable()` callback of a
 * prompt argument or the `complete` callback of a ResourceTemplate and caps the answer at 100
 * values with `total` and `hasMore`, so the completers here return every match, in the order a
 * person wants them (newest job first), and never throw: a completion is a hint, and ComfyUI
 * being down only means fewer hints.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CompleteRequestSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { JobState } from '../../streams/job-state.js';
import { listJobFiles, listJobFolders } from '../jobs/output-listing.js';
import { comboChoices } from '../workflows/input-spec.js';
import { listTemplateNames } from '../workflows/template-store.js';
import type { McpDeps } from './deps.js';

export type Completer = (value: string | undefined, context?: { arguments?: Record<string, string> }) => Promise<string[]>;

/** Case and the path separator do not matter: `SD15\x` finds `sd15/x.safetensors` on any server. */
function fold(text: string): string {
  return text.toLowerCase().replace(/\\/g, '/');
}

/** Candidates that start with `prefix`, each once, in the order given. */
export function byPrefix(candidates: Iterable<string>, prefix: string | undefined): string[] {
  const wanted = fold(prefix ?? '');
  return [...new Set(candidates)].filter((c) => fold(c).startsWith(wanted));
}

/** A completer whose source may fail (the disk, ComfyUI): a failure offers nothing. */
function completer(source: (context?: { arguments?: Record<string, string> }) => Promise<Iterable<string>>): Completer {
  return async (value, context) => {
    try {
      return byPrefix(await source(context), value);
    } catch {
      return [];
    }
  };
}

export function workflowNames(deps: McpDeps): Completer {
  return completer(() => listTemplateNames(deps.config.workflowsDir));
}

/**
 * Checkpoints as generate_image takes them: the choices of CheckpointLoaderSimple's ckpt_name in
 * /object_info (cached by the engine, so typing does not flood ComfyUI), else /models/checkpoints.
 */
export function checkpointNames(deps: McpDeps): Completer {
  return completer(async () => {
    const info = await deps.engine.objectInfo();
    const choices = comboChoices(info.CheckpointLoaderSimple?.input.required?.ckpt_name);
    if (choices) return choices.filter((c): c is string => typeof c === 'string');
    return deps.engine.comfy.listModels('checkpoints');
  });
}

/** This server's jobs, running ones first, then finished ones newest first (optionally the failed ones first). */
function jobStates(deps: McpDeps): JobState[] {
  const active = deps.engine.inFlight().map((j) => j.state).reverse();
  return [...active, ...deps.engine.recent()];
}

export function recentPromptIds(deps: McpDeps, options: { failedFirst?: boolean } = {}): Completer {
  return completer(async () => {
    const states = jobStates(deps);
    const failed = (s: JobState): boolean => s.status === 'error' || s.status === 'lost';
    const ordered = options.failedFirst ? [...states.filter(failed), ...states.filter((s) => !failed(s))] : states;
    return ordered.map((s) => s.promptId);
  });
}

/** Jobs whose outputs are in the output folder, whichever process downloaded them, newest first. */
export function outputPromptIds(deps: McpDeps): Completer {
  return completer(async () => (await listJobFolders(deps.config.outputDir)).map((f) => f.promptId));
}

/** This server's jobs, then those known only from the output folder. */
export function knownPromptIds(deps: McpDeps): Completer {
  return completer(async () => [
    ...jobStates(deps).map((s) => s.promptId),
    ...(await listJobFolders(deps.config.outputDir)).map((f) => f.promptId),
  ]);
}

/** Files below the job folder of the `prompt_id` already chosen; none until one is. */
export function outputFiles(deps: McpDeps): Completer {
  return completer(async (context) => {
    const promptId = context?.arguments?.['prompt_id'];
    if (!promptId) return [];
    return (await listJobFiles(deps.config.outputDir, promptId)).map((f) => f.rel);
  });
}

const NOTHING = { completion: { values: [], hasMore: false } };

/**
 * A completion request for a prompt or template this server does not have gets an empty list
 * instead of the SDK's "not found" error. The MCP conformance suite (scenario
 * completion-complete) asks about a prompt of its own that no real server has, and a client
 * that completes against a stale list is better served by no suggestions than by a failure.
 * Install before the first completable prompt or template is registered: the SDK sets its
 * completion handler then, and that handler is wrapped.
 */
export function completeUnknownAsEmpty(server: McpServer): void {
  const low = server.server;
  const setRequestHandler = low.setRequestHandler.bind(low);
  low.setRequestHandler = ((schema: unknown, handler: (request: never, extra: never) => Promise<unknown>) => {
    if (schema !== CompleteRequestSchema) return setRequestHandler(schema as never, handler as never);
    const wrapped = async (request: never, extra: never): Promise<unknown> => {
      try {
        return await handler(request, extra);
      } catch (error) {
        // The SDK's words for an unknown (or disabled) prompt or template; our completers never throw.
        if (error instanceof McpError && error.code === ErrorCode.InvalidParams) return NOTHING;
        throw error;
      }
    };
    return setRequestHandler(schema as never, wrapped as never);
  }) as typeof low.setRequestHandler;
}
