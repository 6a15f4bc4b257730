import { mediaFacts } from '../media/job-outputs.js';
import type { JobView } from './job-view.js';

/** Readable text of a job view: what an agent reads first, with the next step spelled out. */

const secs = (ms: number | undefined): string => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);
const pct = (f: number): string => `${Math.floor(f * 100)}%`;
const MAX_INPUTS_CHARS = 1500;

function nodeName(n: { id: string; class_type?: string | undefined; title?: string | undefined }): string {
  const cls = n.class_type ?? 'unknown class';
  return n.title && n.title !== n.class_type ? `node ${n.id} "${n.title}" (${cls})` : `node ${n.id} (${cls})`;
}

export function filesText(view: JobView): string[] {
  const lines = view.files.map((f) => `- ${f.path} (${mediaFacts(f).join(', ')}, node ${f.node_id})`);
  for (const m of view.missing_files) lines.push(`- ${m.filename} (node ${m.node_id}) not on disk: ${m.reason}${m.url ? ` — ${m.url}` : ''}`);
  return lines;
}

/** A success without known outputs: say so, why, and what to do, never "no files". */
export function outputsUnknownText(promptId: string, reason: string): string {
  return (
    `But its outputs could not be determined: ${reason} ` +
    `Call get_workflow_status with prompt_id "${promptId}" later (ComfyUI may answer then), or look in ComfyUI's output folder.`
  );
}

export function jobText(view: JobView): string {
  const id = view.prompt_id;
  const lines: string[] = [];
  switch (view.status) {
    case 'queued':
      lines.push(
        `Job ${id} is queued${view.queue_position !== undefined ? ` (${view.queue_position} ahead of it)` : ''}.`,
        'Call get_workflow_status again to follow it, or cancel_job to remove it.',
      );
      break;
    case 'running': {
      const n = view.current_node;
      const step = n?.max !== undefined && n.max > 1 ? `, step ${n.value}/${n.max}` : '';
      lines.push(
        `Job ${id} is running: ${pct(view.progress)}${n ? `, at ${nodeName(n)}${step}` : ''}, ${secs(view.elapsed_ms)} elapsed.`,
        'Call get_workflow_status again to follow it, or cancel_job to stop it.',
      );
      for (const node of view.nodes) lines.push(`- ${nodeName(node)}: ${node.state} ${node.value}/${node.max}`);
      break;
    }
    case 'success':
      if (!view.settled) {
        lines.push(`Job ${id} finished; its outputs are being downloaded. Call get_workflow_status again in a moment for the file paths.`);
        break;
      }
      lines.push(`Job ${id} succeeded in ${secs(view.duration_ms)}${view.workflow ? ` (workflow ${view.workflow})` : ''}.`);
      if (view.files.length + view.missing_files.length > 0) lines.push('Files:', ...filesText(view));
      else if (view.outputs_unknown) lines.push(outputsUnknownText(view.prompt_id, view.outputs_unknown));
      else lines.push('It produced no files.');
      break;
    case 'error': {
      const e = view.error;
      if (!e) {
        lines.push(`Job ${id} failed${view.lost_reason ? `: ${view.lost_reason}` : ''}. ComfyUI's console log has the details.`);
        break;
      }
      lines.push(`Job ${id} failed. ${e.summary}`, 'What to do:', ...e.hints.map((h) => `- ${h}`));
      const inputs = JSON.stringify(e.inputs);
      lines.push(`Inputs of the failing node: ${inputs.length > MAX_INPUTS_CHARS ? `${inputs.slice(0, MAX_INPUTS_CHARS)}…` : inputs}`);
      if (e.traceback.length) lines.push('Traceback (last lines):', ...e.traceback.map((l) => `  ${l}`));
      break;
    }
    case 'interrupted':
      lines.push(`Job ${id} was interrupted${view.interrupted_at ? ` at ${nodeName(view.interrupted_at)}` : ''}; it produced no final output.`);
      break;
    case 'cancelled':
      lines.push(`Job ${id} was removed from the queue before it ran.`);
      break;
    case 'lost':
      lines.push(`Lost track of job ${id}: ${view.lost_reason ?? 'no reason recorded'}. get_queue shows whether ComfyUI still runs it.`);
      break;
  }
  if (view.texts.length) lines.push('Text outputs:', ...view.texts.map((t) => `> ${t}`));
  lines.push(...hostText(view));
  return lines.join('\n');
}

/** With several hosts: where the job is and why; a job waiting on a host that is down says so. */
export function hostText(view: JobView): string[] {
  if (view.host === undefined) return [];
  const lines = [`Host: ${view.host}${view.dispatch ? ` (${view.dispatch})` : ''}.`];
  const unfinished = view.status === 'queued' || view.status === 'running';
  if (view.host_note !== undefined && unfinished) lines.push(view.host_note);
  return lines;
}
