import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { INSPECTOR_URL, connectHeapProbe, grownClasses, type HeapProbe } from '../helpers/inspector.js';
import { deadline, until } from '../helpers/wait.js';

/**
 * The heap probe the load suites rely on (test/helpers/inspector.ts), against a child whose heap
 * is known: it keeps `Kept` objects on command. The probe counts them exactly, sees them go
 * once dropped (its own readings keep nothing alive), and never runs the child's code: a Proxy
 * whose traps record being called and a class whose `constructor` is a getter are read
 * without either being touched (the getter's class counts as `(no class name)`).
 */

const CHILD = `
class Kept {}
const held = [];
const calls = [];
globalThis.trap = new Proxy({}, { getPrototypeOf() { calls.push('getPrototypeOf'); return null; }, get(t, k) { calls.push(String(k)); return undefined; } });
class Sly {}
Object.defineProperty(Sly.prototype, 'constructor', { get() { calls.push('constructor getter'); return Sly; } });
globalThis.sly = new Sly();
process.stdin.setEncoding('utf8');
let buffer = '';
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  for (let i; (i = buffer.indexOf('\\n')) >= 0; ) {
    const [cmd, n] = buffer.slice(0, i).split(' ');
    buffer = buffer.slice(i + 1);
    if (cmd === 'keep') for (let k = 0; k < Number(n); k++) held.push(new Kept());
    if (cmd === 'drop') held.length = 0;
    process.stdout.write((cmd === 'calls' ? JSON.stringify(calls) : 'ok') + '\\n');
  }
});
`;

let child: ChildProcessWithoutNullStreams;
let probe: HeapProbe;
let stdout = '';

/** Sends one command and waits for its answer line. */
async function command(line: string): Promise<string> {
  const before = stdout.length;
  child.stdin.write(`${line}\n`);
  await until(() => stdout.indexOf('\n', before) >= 0, 10_000);
  return stdout.slice(before, stdout.indexOf('\n', before));
}

beforeAll(async () => {
  child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', CHILD]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  await until(() => INSPECTOR_URL.test(stderr), 10_000);
  probe = await connectHeapProbe(stderr.match(INSPECTOR_URL)![1]!);
}, 30_000);

afterAll(async () => {
  await probe?.close();
  child?.kill();
});

test('counts the objects of a class exactly, and no longer counts them once they are dropped', async () => {
  expect((await probe.countsAfterGc()).Kept ?? 0).toBe(0);
  await command('keep 250');
  const kept = await probe.countsAfterGc();
  expect(kept.Kept).toBe(250);
  // A second reading sees the same: the first one's array of every object was released.
  expect((await probe.countsAfterGc()).Kept).toBe(250);
  await command('drop');
  const dropped = await probe.countsAfterGc();
  expect(dropped.Kept ?? 0).toBe(0);
  expect(grownClasses(dropped, kept, 250)).toEqual([{ name: 'Kept', grown: 250 }]);
  expect(grownClasses(dropped, kept, 251)).toEqual([]);
}, 30_000);

test('reads a Proxy and a getter-bearing prototype without running the child code', async () => {
  const counts = await probe.countsAfterGc();
  // V8 lists no Proxy among the objects of a prototype; were it to, it would count as '(proxy)'.
  expect(counts['(proxy)'] ?? 0).toBeLessThanOrEqual(1);
  // The getter is not called, so that class goes unnamed.
  expect(counts.Sly).toBeUndefined();
  expect(counts['(no class name)']).toBeGreaterThanOrEqual(1);
  expect(await deadline(command('calls'), 10_000, 'the child answering')).toBe('[]');
}, 30_000);

test('the heap in use after a collection grows with what the child keeps', async () => {
  const before = await probe.usedAfterGc();
  await command('keep 100000');
  const after = await probe.usedAfterGc();
  // 100,000 empty objects: at least 12 bytes each however V8 lays them out.
  expect(after - before).toBeGreaterThan(100_000 * 12);
  await command('drop');
}, 30_000);
