import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  ['download', async () => (await import('./download-rss.js')).benchDownloadRss()],
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

// One section in this process, its figures as JSON on stdout: how the table runs each section.
const sectionAt = process.argv.indexOf('--section');
if (sectionAt >= 0) {
  const name = process.argv[sectionAt + 1];
  const section = sections.find(([n]) => n === name);
  if (!section) throw new Error(`no benchmark section ${name}`);
  process.stdout.write(`${JSON.stringify(await section[1]())}\n`);
  process.exit(0);
}

/**
 * Each section runs in a fresh Node process: RSS and tail latencies are whole-process figures,
 * and in a shared process they moved with what the sections before had left to the collector
 * (download RSS 1 MB alone, 17-35 MB after the others; a 512x512 result's p95 18 ms alone, 63 ms
 * after them).
 */
function runSection(name: string): Promise<Figure[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--section', name], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('[')) resolve(JSON.parse(last) as Figure[]);
      else reject(new Error(`section ${name} ended with ${code ?? signal}`));
    });
  });
}

const only = process.argv.slice(2);
const figures: Figure[] = [];
for (const [name] of sections) {
  if (only.length && !only.includes(name)) continue;
  process.stderr.write(`running ${name}...\n`);
  try {
    figures.push(...(await runSection(name)));
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
