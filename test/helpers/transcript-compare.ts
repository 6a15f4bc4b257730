import type { Transcript } from './transcript.js';

/** Comparing replayed WS lines with a recording where the real server is nondeterministic too. */

/**
 * A socket that joins mid-run (i_reconnect_midrun) gets, after `status` and a bare `executing`,
 * the running node's steps from wherever its connection landed. Which step that is depends only
 * on when the client reconnects relative to the node's step timer, in ComfyUI as here, so the
 * replay does not aim for one. That run of steps becomes one line ("steps ..15/15 of node 1"),
 * and `firstStep` is checked on its own: the steps must be consecutive, end as recorded, and
 * start after the last one the earlier socket got. Every other line is compared as is.
 */
export function joinedMidRun(lines: readonly string[]): { lines: string[]; firstStep?: number } {
  const at = lines.findIndex((l) => / no prompt_id\)$/.test(l) && l.startsWith('executing('));
  if (at < 0) return { lines: [...lines] };
  const node = /^executing\(node=(.+), no prompt_id\)$/.exec(lines[at]!)![1]!;
  const esc = node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const state = new RegExp(`^progress_state\\(((?:[^,]+,)*)${esc}:running:(\\d+)/(\\d+)\\)$`);
  let firstStep: number | undefined;
  let last: { value: number; max: string; others: string } | undefined;
  let end = at + 1;
  for (;;) {
    const m = state.exec(lines[end] ?? '');
    if (!m) break;
    const [, others = '', value, max = ''] = m;
    const v = Number(value);
    if (last && (v !== last.value + 1 || max !== last.max || others !== last.others)) break;
    if (lines[end + 1] !== `progress(${v}/${max} node=${node})`) break;
    firstStep ??= v;
    last = { value: v, max, others };
    end += 2;
  }
  if (!last) return { lines: [...lines] };
  return { lines: [...lines.slice(0, at + 1), `steps ..${last.value}/${last.max} of node ${node}`, ...lines.slice(end)], firstStep };
}

/** The highest step an earlier socket with the same clientId was recorded to get. */
export function lastStepBefore(t: Transcript, client: string): number {
  const names = Object.keys(t.clients);
  const earlier = names.slice(0, names.indexOf(client)).filter((n) => t.clients[n]?.clientId === t.clients[client]?.clientId);
  const steps = earlier.flatMap((n) => (t.summary.ws[n] ?? []).map((l) => /^progress\((\d+)\//.exec(l)?.[1]).filter((v) => v !== undefined).map(Number));
  return Math.max(0, ...steps);
}
