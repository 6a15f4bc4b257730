import { jest } from '@jest/globals';
import { ModelMemory } from '../../src/simulator/model-memory.js';

/** The simulator's loaded checkpoint: a load costs loadMs unless that checkpoint is already held. */

beforeEach(() => { jest.useFakeTimers(); });
afterEach(() => { jest.useRealTimers(); });

async function timed(load: Promise<void>, ms: number): Promise<boolean> {
  let done = false;
  void load.then(() => (done = true));
  await jest.advanceTimersByTimeAsync(ms);
  return done;
}

it('charges a load for a new checkpoint (not at 999 ms, at 1000 ms), nothing for the held one', async () => {
  const memory = new ModelMemory(1_000);
  const signal = new AbortController().signal;
  const first = memory.load('a', signal);
  expect(await timed(first, 999)).toBe(false);
  expect(memory.loaded).toBeUndefined();
  expect(await timed(first, 1)).toBe(true);
  expect(memory.loaded).toBe('a');
  expect(await timed(memory.load('a', signal), 0)).toBe(true);
  const other = memory.load('b', signal);
  expect(await timed(other, 999)).toBe(false);
  expect(memory.loaded).toBe('a');
  expect(await timed(other, 1)).toBe(true);
  expect(memory.loaded).toBe('b');
});

it('after forget() the same checkpoint loads again; a load cut short leaves nothing loaded', async () => {
  const memory = new ModelMemory(1_000);
  const abort = new AbortController();
  expect(await timed(memory.load('a', abort.signal), 1_000)).toBe(true);
  memory.forget();
  const again = memory.load('a', abort.signal);
  expect(await timed(again, 999)).toBe(false);
  abort.abort();
  expect(await timed(again, 0)).toBe(true);
  expect(memory.loaded).toBeUndefined();
});

it('costs nothing with loadMs 0 (the default)', async () => {
  const memory = new ModelMemory(0);
  expect(await timed(memory.load('a', new AbortController().signal), 0)).toBe(true);
  expect(memory.loaded).toBe('a');
});
