import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';

/**
 * bench/RESULTS.md, the latest figures with the machine they were taken on. Written by
 * `npm run bench:results` (write-results.ts) from the output of both benchmark runs, so the file
 * is never edited by hand and always says where and when its numbers come from.
 */

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started: a busy machine explains slow figures. */
  loadAtStart: number;
}

export function describeMachine(): Machine {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    os: `${type()} ${release()} ${arch()}`,
    loadAtStart: loadavg()[0] ?? NaN,
  };
}

/** The table lines and the "N met, M missed" line of `npm run bench`'s stdout (anything else is dropped). */
export function benchOutput(stdout: string): { table: string; summary: string } {
  const lines = stdout.split('\n').map((l) => l.trimEnd());
  return {
    table: lines.filter((l) => l.startsWith('|')).join('\n'),
    summary: lines.find((l) => /^\d+ met, \d+ missed$/.test(l)) ?? '',
  };
}

export interface Results {
  machine: Machine;
  date: Date;
  bench: { table: string; summary: string };
  compare: string;
  /** What the person who ran it wants to add (e.g. that other work shared the machine). */
  note?: string;
}

export function renderResults(r: Results): string {
  const m = r.machine;
  return `# Benchmark results

The latest figures, written by \`npm run bench:results\` (bench/write-results.ts): do not edit by hand.

- Date: ${r.date.toISOString().replace(/\.\d{3}Z$/, 'Z')}
- CPU: ${m.cpu}, ${m.cores} cores
- Memory: ${m.memoryGiB.toFixed(1)} GiB
- Node: ${m.node}
- OS: ${m.os}
- Load average (1 min) at the start: ${m.loadAtStart.toFixed(2)}
${r.note ? `- Note: ${r.note}\n` : ''}
## \`npm run bench\`

${r.bench.table}

${r.bench.summary}

Fleet: jobs per minute with 1, 2 and 4 simulators of equal speed in the benchmark's process, behind
one Fleet (\`COMFYUI_URLS\`), kept saturated (2 × hosts jobs in flight, each refilled as one ends)
with jobs that sleep (10 steps of 20 ms) and write no image; the clock runs from the end of the
warm-up jobs to the end of the measured ones, medians over 3 interleaved runs, the ratios taken
run by run. "Idle between jobs" is a job's end to its host's next start as comfywire sees them; the
simulator's own floor (its worker's pick-up delay and history write) is in the note.
Dispatch decision: \`fleet.decide()\` for the sd15-txt2img prompt over 16 simulators with their
real catalogs and varied loads, timed call by call; 50 hosts reuse those catalogs in host views.

## \`npm run bench -- --compare\`

${r.compare}

Completion latency: from the simulator's \`execution_success\` frame reaching a socket in the
benchmark's process to the client holding the outputs on disk. comfywire is its engine, MCP server
and the MCP SDK's client calling \`generate_image\` (in-memory transport, the inline preview
included); the baseline is bench/compare-baseline.ts, a client that posts the prompt, asks
\`/history/{id}\` at once and then every second, and downloads each image with \`/view\`. Both run
the same 64×64 workflow with render times drawn at random, alternating. Start-up: spawn ->
\`initialize\` -> \`tools/list\` answered -> stdin closed -> the process exited, comfywire's
\`dist/comfywire.mjs serve\` against \`comfyui-mcp@0.52.203\` (installed by the benchmark into
\`<os tmpdir>/comfywire-bench-peer/\`), both with a fresh HOME and the same loopback ComfyUI,
alternating after one warm-up start each.

## How to reproduce

\`\`\`sh
npm ci
npm run bench                      # every section; or name some: npm run bench -- latency mcp
npm run bench -- --compare         # side by side (installs the peer once; skipped with a note without the registry)
npm run bench:results              # both runs, then this file rewritten
\`\`\`

Figures on a shared or busy machine move from run to run: compare ratios taken in the same run,
and medians over several runs, not single values.
`;
}
