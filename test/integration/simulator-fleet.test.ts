import { createServer, type Server } from 'node:net';
import { ConfigInvalidError } from '../../src/errors.js';
import { startSimulators } from '../../src/simulator/fleet.js';

/** startSimulators: several simulated ComfyUI hosts in one process, each with its own shape. */

const getJson = async (url: string): Promise<any> => (await fetch(url)).json();

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** Two adjacent loopback ports, both free a moment ago (the kernel picks the first). */
async function adjacentFreePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = (await listen(0))!;
    const port = (first.address() as { port: number }).port;
    const second = port < 65535 ? await listen(port + 1) : undefined;
    await closeServer(first);
    if (second) {
      await closeServer(second);
      return port;
    }
  }
  throw new Error('no two adjacent free ports found');
}

it('starts N simulators on free ports, each with its own checkpoints, all answering; close() stops them all', async () => {
  const fleet = await startSimulators(3, [
    { stepDelayMs: 0, checkpoints: ['a.safetensors'] },
    { stepDelayMs: 0, checkpoints: ['b.safetensors'] },
    { stepDelayMs: 0, checkpoints: ['a.safetensors', 'c.safetensors'] },
  ]);
  expect(fleet.urls).toEqual(fleet.simulators.map((s) => s.url));
  expect(new Set(fleet.simulators.map((s) => s.port)).size).toBe(3);
  for (const url of fleet.urls) expect((await getJson(`${url}/system_stats`)).system.comfyui_version).toBe('0.3.64');
  const sets = await Promise.all(fleet.urls.map((u) => getJson(`${u}/models/checkpoints`)));
  expect(sets).toEqual([['a.safetensors'], ['b.safetensors'], ['a.safetensors', 'c.safetensors']]);
  await fleet.close();
  for (const url of fleet.urls) await expect(fetch(`${url}/system_stats`)).rejects.toThrow();
});

it('puts the instances on ports in a row from basePort, one option set serving all', async () => {
  const base = await adjacentFreePorts();
  const fleet = await startSimulators(2, [{ stepDelayMs: 0, checkpoints: ['same.safetensors'] }], { basePort: base });
  try {
    expect(fleet.simulators.map((s) => s.port)).toEqual([base, base + 1]);
    const sets = await Promise.all(fleet.urls.map((u) => getJson(`${u}/models/checkpoints`)));
    expect(sets).toEqual([['same.safetensors'], ['same.safetensors']]);
  } finally {
    await fleet.close();
  }
});

it('closes the instances that started when one cannot (its port taken), and throws that failure', async () => {
  const base = await adjacentFreePorts();
  const squatter = (await listen(base + 1))!;
  try {
    await expect(startSimulators(2, [], { basePort: base })).rejects.toThrow(/EADDRINUSE/);
    // The first instance, which did start, is closed again: its port is free.
    const probe = await listen(base);
    expect(probe).toBeDefined();
    await closeServer(probe!);
  } finally {
    await closeServer(squatter);
  }
});

it('refuses an option list that is neither one set nor one per instance, a count below 1, ports past 65535', async () => {
  await expect(startSimulators(3, [{}, {}])).rejects.toThrow(ConfigInvalidError);
  await expect(startSimulators(0)).rejects.toThrow(ConfigInvalidError);
  await expect(startSimulators(2, [], { basePort: 65535 })).rejects.toThrow(/65535/);
});
