import { firstValueFrom, filter, share, toArray, takeWhile } from 'rxjs';
import { startFeed } from '../../src/feed/feed-server.js';
import { listFeeds } from '../../src/feed/feed-address.js';
import { readFeed } from '../../src/feed/feed-client.js';
import type { FeedLine } from '../../src/feed/feed-line.js';
import { silentLogger } from '../../src/logger.js';
import { formatEvent } from '../../src/cli/render/event-line.js';
import { startHarness, type Harness } from '../helpers/engine-harness.js';
import { deadline } from '../helpers/wait.js';

/** The local event feed that `comfywire tail --attach` reads: a running process's own job events. */
describe('local event feed', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('registers itself, streams the job events with node names, and unregisters on close', async () => {
    const feed = await startFeed(h.engine, silentLogger(), 'test');
    try {
      const reg = listFeeds().find((f) => f.pid === process.pid);
      expect(reg).toMatchObject({ comfyUrl: h.sim.url, clientId: h.engine.config.clientId, command: 'test' });
      const lines$ = readFeed(reg!.address).pipe(share());
      const collected = firstValueFrom(
        lines$.pipe(
          filter((l): l is FeedLine => !('hello' in l)),
          takeWhile((l) => !(l.event.type === 'executing' && l.event.data.node === null), true),
          toArray(),
        ),
      );
      // The feed writes its hello once it counts this reader in: from then on no event is missed.
      // Each wait is bounded and names what did not come, rather than running into Jest's timeout.
      await deadline(firstValueFrom(lines$.pipe(filter((l) => 'hello' in l))), 5_000, 'the feed\'s hello');
      const job = await h.engine.submit({
        '1': { class_type: 'HarnessSlowProgress', inputs: { steps: 3, delay_ms: 5, nonce: 77 }, _meta: { title: 'Slow thing' } },
        '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      });
      const lines = await deadline(collected, 10_000, 'the job\'s events up to its end of run on the feed');
      await deadline(job.done, 10_000, 'the job settling');
      const types = lines.map((l) => l.event.type);
      expect(types).toEqual(expect.arrayContaining(['execution_start', 'executing', 'progress', 'executed', 'execution_success']));
      const executing = lines.find((l) => l.event.type === 'executing' && l.node);
      expect(executing!.node).toEqual({ classType: 'HarnessSlowProgress', title: 'Slow thing' });
      const progressLine = lines.find((l) => l.event.type === 'progress')!;
      expect(formatEvent(progressLine.event, progressLine.t, progressLine.node)).toMatch(/#1 Slow thing .* 1\/3/);
    } finally {
      await feed.close();
    }
    expect(listFeeds().some((f) => f.pid === process.pid)).toBe(false);
  });
});
