import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { tmpdir } from 'node:os';
import { loadConfig } from '../../src/config.js';
import { Engine, OBJECT_INFO_TTL_MS } from '../../src/engine.js';
import type { ObjectInfo } from '../../src/comfy/types.js';
import { silentLogger } from '../../src/logger.js';

/**
 * Engine.objectInfo()'s cache (src/engine.ts, OBJECT_INFO_TTL_MS = 60 s), on jest's fake clock:
 * an answer is reused until 60 s after it arrived and fetched again after that; a request in
 * flight is shared, however long it takes (a big install can take minutes to answer); a failure
 * is not cached.
 */

const S = 1_000;

let engine: Engine;
let fetches: number;
let answerAfterMs: number;
let failNext: boolean;

beforeEach(() => {
  jest.useFakeTimers();
  const config = loadConfig({}, { cwd: tmpdir(), overrides: { COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_FEED: 'off' } });
  engine = new Engine({ config, logger: silentLogger() }); // never started: no socket
  fetches = 0;
  answerAfterMs = 0;
  failNext = false;
  engine.client.getObjectInfo = () => {
    const n = ++fetches;
    const fail = failNext;
    failNext = false;
    return new Promise<ObjectInfo>((resolve, reject) =>
      setTimeout(() => (fail ? reject(new Error('scan failed')) : resolve({ [`Fetch${n}`]: {} } as unknown as ObjectInfo)), answerAfterMs),
    );
  };
});
afterEach(() => {
  jest.useRealTimers();
});

const tick = (ms: number) => jest.advanceTimersByTimeAsync(ms);
const nameOf = async (p: Promise<ObjectInfo>) => Object.keys(await p)[0];

describe(`/object_info cache (TTL ${OBJECT_INFO_TTL_MS / S} s)`, () => {
  it('is 60 s', () => {
    expect(OBJECT_INFO_TTL_MS).toBe(60 * S);
  });

  it('59 s after the answer: cached; 60 s: still cached; 61 s: fetched again', async () => {
    const first = engine.objectInfo();
    await tick(0);
    expect(await nameOf(first)).toBe('Fetch1');
    await tick(59 * S);
    expect(await nameOf(engine.objectInfo())).toBe('Fetch1');
    await tick(1 * S);
    expect(await nameOf(engine.objectInfo())).toBe('Fetch1');
    expect(fetches).toBe(1);
    await tick(1 * S);
    const again = engine.objectInfo();
    await tick(0);
    expect(await nameOf(again)).toBe('Fetch2');
    expect(fetches).toBe(2);
  });

  it('a 90-second scan: callers at 30 s and 61 s share it; the TTL counts from its answer', async () => {
    answerAfterMs = 90 * S;
    const first = engine.objectInfo();
    await tick(30 * S);
    const second = engine.objectInfo();
    await tick(31 * S); // 61 s: past the TTL since the request, still in flight
    const third = engine.objectInfo();
    await tick(29 * S); // 90 s: the answer
    expect(await Promise.all([first, second, third].map(nameOf))).toEqual(['Fetch1', 'Fetch1', 'Fetch1']);
    expect(fetches).toBe(1);
    await tick(59 * S); // 59 s after the answer
    expect(await nameOf(engine.objectInfo())).toBe('Fetch1');
    await tick(2 * S); // 61 s after the answer
    void engine.objectInfo();
    expect(fetches).toBe(2);
  });

  it('a failed fetch is not cached: the next call fetches again at once', async () => {
    failNext = true;
    const failed = engine.objectInfo();
    await tick(0);
    await expect(failed).rejects.toThrow('scan failed');
    const retried = engine.objectInfo();
    await tick(0);
    expect(await nameOf(retried)).toBe('Fetch2');
  });
});
