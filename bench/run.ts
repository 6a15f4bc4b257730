import { printTable, meets, type Figure } from './table.js';

/**
 * `npm run bench`: every speed and memory target of the project, measured and printed as one
 * table. Targets live here, never in unit tests (timings on shared machines are noisy).
 * Run with --expose-gc so the memory figures are taken after a full collection.
 */
const sections: Array<[string, () => Promise<Figure[]>]> = [
  ['routing', async () => (await import('./routing.js')).benchRouting()],
  ['retention', async () => (await import('./retention.js')).benchRetention()],
  ['latency', async () => (await import('./latency.js')).benchLatency()],
  ['download', async () => (await import('./download-rss.js')).benchDownloadRssIsolated()],
  ['mcp', async () => (await import('./mcp.js')).benchMcp()],
  ['mcp-image', async () => (await import('./mcp-image.js')).benchMcpImage()],
  ['mcp-image-real', async () => (await import('./mcp-image.js')).benchMcpImageReal()],
  ['http-sessions', async () => (await import('./http-sessions.js')).benchHttpSessions()],
  ['fleet', async () => (await import('./fleet.js')).benchFleet()],
  ['dispatch', async () => (await import('./dispatch.js')).benchDispatch()],
  ['outputs', async () => (await import('./output-previews.js')).benchOutputPreviews()],
];

// --compare: comfywire side by side with the alternatives (bench/compare.ts), a table of its own.
if (process.argv.includes('--compare')) {
  const { runComparison } = await import('./compare.js');
  process.stdout.write(`${(await runComparison()).table}\n`);
  process.exit(0);
}

const only = process.argv.slice(2);
const figures: Figure[] = [];
for (const [name, run] of sections) {
  if (only.length && !only.includes(name)) continue;
  process.stderr.write(`running ${name}...\n`);
  try {
    figures.push(...(await run()));
  } catch (err) {
    figures.push({ name: `${name} (failed)`, value: NaN, unit: '', note: (err as Error).message });
  }
}
// The MCP result latency target is relative: at most 2 ms over the engine's own figure.
const engineP50 = figures.find((f) => f.name.startsWith('terminal frame -> job completion'));
const mcpP50 = figures.find((f) => f.name.startsWith('terminal frame -> tools/call'));
if (engineP50 && mcpP50 && Number.isFinite(engineP50.value)) mcpP50.target = { op: '<=', value: engineP50.value + 2 };
process.stdout.write(`${printTable(figures)}\n`);
const missed = figures.filter((f) => meets(f) === false).length;
process.stdout.write(`${figures.length - missed} met, ${missed} missed\n`);
process.exit(0);
