import { stepOf, type JobState } from '../../../streams/job-state.js';

/** A text progress bar: `██████░░░░`. */
export function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** One line describing where a job is: queue place, running node and step, or the end. */
export function describeJob(state: JobState): string {
  const pct = `${Math.round(state.fraction * 100)}%`.padStart(4);
  switch (state.status) {
    case 'queued':
      return state.queuePosition === undefined
        ? 'queued'
        : `queued: ${state.queuePosition} prompt${state.queuePosition === 1 ? '' : 's'} ahead`;
    case 'running': {
      const node = state.currentNode;
      const name = node ? `${node.title ?? node.classType ?? 'node'} (#${node.id})` : 'starting';
      const p = node ? stepOf(state, node.id) : undefined;
      const step = p && p.max > 1 ? ` step ${p.value}/${p.max}` : '';
      return `${bar(state.fraction)} ${pct}  ${name}${step}`;
    }
    case 'success':
      return `${bar(1)} 100%  done`;
    case 'error':
      return `failed at ${state.error ? `${state.error.title ?? state.error.classType} (#${state.error.nodeId})` : 'an unknown node'}`;
    case 'interrupted':
      return 'interrupted';
    case 'cancelled':
      return 'cancelled (removed from the queue)';
    case 'lost':
      return `lost: ${state.lostReason ?? 'ComfyUI forgot the prompt'}`;
  }
}
