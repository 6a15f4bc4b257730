import { listTemplates, loadTemplate } from '../../workflows/index.js';
import type { ParameterSpec, WorkflowTemplate } from '../../workflows/index.js';
import type { JobState } from '../../../streams/job-state.js';
import type { McpDeps } from '../deps.js';

/**
 * Real context the prompts embed: what is cheap to know locally (templates on disk, the jobs
 * this process tracked). Nothing here calls ComfyUI, so a prompt renders even when it is down.
 */

/** One readable line per parameter: the model picks values from this without another call. */
export function describeParameter(p: ParameterSpec): string {
  const facts: string[] = [p.type];
  if (p.default !== undefined) facts.push(`default ${JSON.stringify(p.default)}`);
  if (p.min !== undefined || p.max !== undefined) facts.push(`range ${p.min ?? '…'}..${p.max ?? '…'}`);
  if (p.choices?.length) {
    const shown = p.choices.slice(0, 12).join(', ');
    facts.push(`choices: ${shown}${p.choices.length > 12 ? `, … (${p.choices.length} in all)` : ''}`);
  }
  return `- ${p.name} (${facts.join('; ')})${p.description ? `: ${p.description}` : ''}`;
}

/** "name: description [params]" for every usable template, or a line that says why there are none. */
export async function templateOverview(deps: McpDeps): Promise<string> {
  try {
    const { templates, problems } = await listTemplates(deps.config.workflowsDir);
    if (templates.length === 0 && problems.length === 0) return `(no templates in ${deps.config.workflowsDir})`;
    const lines = templates.map((t) => {
      const isDefault = t.name === deps.config.defaultWorkflow ? ' (default)' : '';
      const params = t.parameters.map((p) => p.name).join(', ');
      return `- ${t.name}${isDefault}${t.description ? `: ${t.description}` : ''}${params ? ` [parameters: ${params}]` : ''}`;
    });
    // UI-format templates need /object_info to convert; they are still usable, so name them.
    for (const p of problems) lines.push(`- ${p.name} (could not be read offline: ${p.message})`);
    return lines.join('\n');
  } catch (error) {
    return `(the workflows folder could not be read: ${error instanceof Error ? error.message : String(error)})`;
  }
}

export async function tryLoadTemplate(deps: McpDeps, name: string): Promise<WorkflowTemplate | Error> {
  try {
    return await loadTemplate(deps.config.workflowsDir, name);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The newest job that ended badly: a failed run, or one whose tracking was lost. */
export function lastFailure(deps: McpDeps): JobState | undefined {
  const bad = (s: JobState): boolean => s.status === 'error' || s.status === 'lost';
  // Active jobs cannot have failed yet, so the settled recent store (newest first) is enough.
  return deps.engine.recent().find(bad);
}

/** The failure facts a model needs to reason about a fix, trimmed so they fit a prompt. */
export function describeFailure(state: JobState): string {
  const lines = [`prompt_id: ${state.promptId}`, `status: ${state.status}`];
  if (state.workflow) lines.push(`workflow: ${state.workflow}`);
  if (state.endedAt !== undefined) lines.push(`ended: ${new Date(state.endedAt).toISOString()}`);
  const e = state.error;
  if (e) {
    lines.push(`failed node: ${e.nodeId} (${e.classType}${e.title ? `, "${e.title}"` : ''})`);
    lines.push(`exception: ${e.exceptionType}: ${e.exceptionMessage.trim()}`);
    const tail = e.traceback.join('').trim().split('\n').slice(-6).join('\n');
    if (tail) lines.push(`traceback (last lines):\n${tail}`);
  }
  if (state.lostReason) lines.push(`lost: ${state.lostReason}`);
  return lines.join('\n');
}

export function userText(text: string): { role: 'user'; content: { type: 'text'; text: string } } {
  return { role: 'user', content: { type: 'text', text } };
}
