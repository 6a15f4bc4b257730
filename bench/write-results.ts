import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchOutput, describeMachine, renderResults } from './results-file.js';

/**
 * `npm run bench:results [-- --note "..."]`: runs `npm run bench`'s two tables (every section,
 * then --compare), each in a process of its own as a user runs them, and rewrites
 * bench/RESULTS.md from their output. Nothing is written when either run fails.
 */

const RUN = fileURLToPath(new URL('./run.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));

function runBench(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // Progress lines go to this terminal (stderr); the tables come back on stdout.
    const child = spawn(process.execPath, ['--expose-gc', RUN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`bench ${args.join(' ')} ended with ${code ?? signal}`))));
  });
}

const noteAt = process.argv.indexOf('--note');
const note = noteAt >= 0 ? process.argv[noteAt + 1] : undefined;
const machine = describeMachine();
const date = new Date();
const bench = benchOutput(await runBench([]));
const compare = benchOutput(await runBench(['--compare'])).table;
writeFileSync(RESULTS, renderResults({ machine, date, bench, compare, ...(note ? { note } : {}) }));
process.stderr.write(`wrote ${RESULTS}\n`);
