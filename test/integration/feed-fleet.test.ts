import { afterEach, expect, it } from '@jest/globals';
import { filter, firstValueFrom, share, takeWhile, toArray } from 'rxjs';
import { startFeed } from '../../src/feed/feed-server.js';
import { listFeeds } from '../../src/feed/feed-address.js';
import { readFeed } from '../../src/feed/feed-client.js';
import type { FeedLine } from '../../src/feed/feed-line.js';
import { silentLogger } from '../../src/logger.js';
import { startFleetHarness, type FleetHarness } from '../helpers/fleet-harness.js';
import { slowPrompt } from '../helpers/prompts.js';
import { deadline } from '../helpers/wait.js';

/** The feed of a process with several hosts (`tail --attach`): each line names the host that sent it. */

let h: FleetHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it("each feed line names its host: a job pinned to gpu-2 arrives as gpu-2's, gpu-1's status frames as gpu-1's", async () => {
  h = await startFleetHarness([{}, {}]);
  const feed = await startFeed(h.fleet, silentLogger(), 'test');
  try {
    const reg = listFeeds().find((f) => f.pid === process.pid)!;
    const lines$ = readFeed(reg.address).pipe(share());
    const collected = firstValueFrom(
      lines$.pipe(
        filter((l): l is FeedLine => !('hello' in l)),
        takeWhile((l) => l.event.type !== 'execution_success', true),
        toArray(),
      ),
    );
    await deadline(firstValueFrom(lines$.pipe(filter((l) => 'hello' in l))), 5_000, "the feed's hello");
    const job = await h.fleet.submit(slowPrompt(2, 5), { host: 'gpu-2' });
    const lines = await deadline(collected, 10_000, "the job's events up to its success on the feed");
    const ofJob = lines.filter((l) => 'prompt_id' in (l.event.data as object) && (l.event.data as { prompt_id?: string }).prompt_id === job.promptId);
    expect(ofJob.length).toBeGreaterThan(2);
    for (const l of ofJob) expect(l.host).toBe('gpu-2');
    for (const l of lines) expect(['gpu-1', 'gpu-2']).toContain(l.host);
    await job.done;
  } finally {
    await feed.close();
  }
});
