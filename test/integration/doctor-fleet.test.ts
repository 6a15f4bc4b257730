import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doctorPassed, formatChecks, runDoctor } from '../../src/doctor/run-doctor.js';
import type { DoctorCheck } from '../../src/doctor/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';

/** `comfywire doctor` with several hosts (COMFYUI_URLS): every host checked and reported on its own. */

const byName = (checks: DoctorCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c]));
/** Port 9 (discard): never handed out for port 0, so nothing listens there. */
const DEAD = 'http://127.0.0.1:9';

let a: Simulator;
let b: Simulator;
let out: string;
beforeAll(async () => {
  a = await startSimulator({ stepDelayMs: 1 });
  b = await startSimulator({ stepDelayMs: 1, checkpoints: [] });
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'comfywire-doctor-fleet-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

const nameOf = (s: Simulator) => `127.0.0.1:${s.port}`;

it('checks every host: each one its reachability, socket, node classes and checkpoints, then a summary', async () => {
  const checks = await runDoctor({ env: { COMFYUI_URLS: `${a.url},${b.url}`, COMFYWIRE_OUTPUT_DIR: out } });
  const [na, nb] = [nameOf(a), nameOf(b)];
  expect(checks.map((c) => c.name)).toEqual([
    'node', 'config',
    `${na} comfyui`, `${na} auth`, `${na} websocket`, `${na} custom nodes`, `${na} checkpoints`,
    `${nb} comfyui`, `${nb} auth`, `${nb} websocket`, `${nb} custom nodes`, `${nb} checkpoints`,
    'templates', 'default workflow', 'hosts', 'output folder', 'video decoder', 'call log',
  ]);
  const c = byName(checks);
  expect(c[`${na} comfyui`]!.detail).toContain(a.url);
  expect(c[`${na} checkpoints`]!.status).toBe('ok');
  // A host without checkpoints warns (as one host would); it does not fail.
  expect(c[`${nb} checkpoints`]).toMatchObject({ status: 'warn', detail: 'no checkpoints in models/checkpoints' });
  expect(c['hosts']).toEqual({ name: 'hosts', status: 'ok', detail: `2 ComfyUI hosts, every one passes: ${na}, ${nb}` });
  expect(doctorPassed(checks)).toBe(true);
});

it('a host that is down fails with its name, the others still pass, and the summary names it', async () => {
  const checks = await runDoctor({ env: { COMFYUI_URLS: `${a.url},${DEAD}`, COMFYWIRE_OUTPUT_DIR: out } });
  const c = byName(checks);
  expect(c[`${nameOf(a)} websocket`]!.status).toBe('ok');
  expect(c['127.0.0.1:9 comfyui']).toMatchObject({ status: 'fail' });
  expect(c['127.0.0.1:9 websocket']).toBeUndefined();
  expect(c['hosts']).toMatchObject({ status: 'fail', detail: '1 of 2 hosts failed: 127.0.0.1:9 (comfyui)' });
  // The templates are still checked against the host that answers.
  expect(c['templates']!.status).toBe('ok');
  expect(doctorPassed(checks)).toBe(false);
  expect(formatChecks(checks)).toMatch(/fail +hosts +1 of 2 hosts failed: 127\.0\.0\.1:9 \(comfyui\)/);
});
