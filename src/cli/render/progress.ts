import { stepOf, type JobState } from '../../../streams/job-state.js';

/** A text progress bar: `██████░░░░`. */
export function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** The bar's width when there is room; below MIN_BAR it is left out rather than squeezed. */
const BAR_WIDTH = 20;
const MIN_BAR = 5;

/**
 * Cut to `max` characters, the last one an ellipsis. (Counted in code points: a node title in a
 * wide script may still overrun by a few columns; log-update then wraps rather than scrolls.)
 */
export function fitLine(text: string, max: number): string {
  if (!Number.isFinite(max)) return text;
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return max <= 0 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}

/** A bar before `rest`, as wide as the room left allows (full, narrower, or none). */
function withBar(fraction: number, rest: string, columns: number): string {
  const room = columns - Array.from(rest).length - 1;
  const width = Math.min(BAR_WIDTH, room);
  return width >= MIN_BAR ? `${bar(fraction, width)} ${rest}` : rest;
}

/**
 * One line describing where a job is: queue place, running node and step, or the end. Given the
 * terminal's width in `columns`, the line fits in it: the bar narrows first, then the text is cut.
 */
export function describeJob(state: JobState, columns = Infinity): string {
  const pct = `${Math.round(state.fraction * 100)}%`.padStart(4);
  return fitLine(lineOf(state, pct, columns), columns);
}

function lineOf(state: JobState, pct: string, columns: number): string {
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
      return withBar(state.fraction, `${pct}  ${name}${step}`, columns);
    }
    case 'success':
      return withBar(1, '100%  done', columns);
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
