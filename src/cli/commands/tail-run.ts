import { randomUUID } from 'node:crypto';
import { EMPTY, merge, catchError, concatMap, filter, tap, type Observable } from 'rxjs';
import { authHeaders, loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { redactorFor, redactUrls, type Redactor } from '../../redact.js';
import { ComfyConnection } from '../../../streams/connection.js';
import { nodeIdOf, promptIdOf, type ComfyEvent } from '../../../streams/messages.js';
import { ComfyClient } from '../../comfy/client.js';
import { NodeNames } from '../render/node-names.js';
import { listFeeds } from '../../feed/feed-address.js';
import { readFeed } from '../../feed/feed-client.js';
import type { FeedLine } from '../../feed/feed-line.js';
import { formatEvent, type NodeInfoHint } from '../render/event-line.js';

import type { TailOptions } from './tail.js';
import { own } from '../../input-policy/index.js';

/** What `comfywire tail` does once its options are parsed (loaded only when it runs). */
interface Item {
  event: ComfyEvent;
  t: number;
  node?: NodeInfoHint;
  /** The host that sent it, when there are several (the feed's line says so too). */
  host?: string;
}

/** One output line: the event, prefixed with its host when there are several. */
function lineOf(item: Item, json: boolean | undefined): string {
  if (json) return JSON.stringify({ t: item.t, ...(item.host !== undefined ? { host: item.host } : {}), ...item.event });
  return `${item.host !== undefined ? `[${item.host}] ` : ''}${formatEvent(item.event, item.t, item.node)}`;
}

export async function runTail(opts: TailOptions): Promise<number> {
  // Attached, the feed comes redacted by the process that serves it; our own config masks the rest.
  let redact: Redactor = redactUrls;
  const say = (line: string) => process.stderr.write(`${redact(line)}\n`);
  let items$: Observable<Item>;
  let closeSource: () => Promise<void> = async () => undefined;

  if (opts.attach) {
    const feeds = listFeeds().filter((f) => opts.attach === true || String(f.pid) === opts.attach);
    if (feeds.length === 0) {
      say(
        opts.attach === true
          ? 'No running comfywire process publishes a feed. Start one (`comfywire serve`, or an MCP client that launches it), or run `comfywire tail` without --attach.'
          : `No running comfywire process with pid ${String(opts.attach)}.`,
      );
      return 2;
    }
    items$ = merge(
      ...feeds.map((f) =>
        readFeed(f.address).pipe(
          // Said once the publisher has counted this reader in (its hello): from then on no event
          // of that process is missed, so a script may start work when it reads this line.
          tap((line) => {
            if ('hello' in line) say(`attached to comfywire pid ${f.pid} (${f.command}) -> ${f.comfyUrl}`);
          }),
          catchError((err: Error) => {
            say(`feed of pid ${f.pid} failed: ${err.message}`);
            return EMPTY;
          }),
        ),
      ),
    ).pipe(filter((line): line is FeedLine => !('hello' in line)));
  } else {
    const config = loadConfig();
    redact = redactorFor(config);
    const logger = createLogger('warn', { redact });
    const several = config.hosts.length > 1;
    const running = listFeeds();
    // One observer socket per host; with several, every line names its host.
    const watched = config.hosts.map((host) => {
      const connection = new ComfyConnection({
        baseUrl: host.url,
        clientId: `comfywire-tail-${randomUUID()}`,
        headers: authHeaders(host.auth),
        stallTimeoutMs: config.stallTimeoutMs,
        pingIntervalMs: config.pingIntervalMs,
        logger,
      });
      const where = several ? `${host.name} (${host.url})` : host.url;
      // "connected" only once the socket has opened (state$ below): said earlier, a script that
      // waits for it and then posts a prompt could miss that prompt's first events.
      say(`connecting to ${where}...`);
      let opened = false;
      connection.state$.subscribe((st) => {
        if (st === 'reconnecting') say(`connection to ${where} lost; reconnecting...`);
        if (st === 'open') say(opened ? `connected to ${where} again` : `connected to ${where} as an observer.`);
        if (st === 'open') opened = true;
      });
      const names = new NodeNames(new ComfyClient({ baseUrl: host.url, auth: host.auth, clientId: 'comfywire-tail', requestTimeoutMs: 5000 }));
      // concatMap keeps the order; only the first event of a prompt waits for its lookup.
      const items = connection.events$.pipe(
        concatMap(async (event): Promise<Item> => {
          const t = Date.now();
          const pid = promptIdOf(event);
          const nodeId = nodeIdOf(event);
          const node = pid && nodeId ? own(await names.of(pid), nodeId) : undefined;
          return { event, t, ...(node ? { node } : {}), ...(several ? { host: host.name } : {}) };
        }),
      );
      return { connection, items };
    });
    say(
      'ComfyUI sends execution events only to the client that submitted a prompt: here you see queue status ' +
        "for everyone and the full events of prompts posted without client_id. To see a comfywire's own jobs, use `comfywire tail --attach`" +
        (running.length ? ` (${running.length} running: pid ${running.map((f) => f.pid).join(', ')}).` : '.'),
    );
    for (const w of watched) w.connection.start();
    items$ = merge(...watched.map((w) => w.items));
    closeSource = async () => {
      await Promise.all(watched.map((w) => w.connection.close()));
    };
  }

  const wanted = opts.prompt;
  const done = new Promise<number>((resolve) => {
    const sub = items$.subscribe({
      next: (item) => {
        if (wanted) {
          const pid = promptIdOf(item.event);
          if (!pid || !pid.startsWith(wanted)) return;
        }
        process.stdout.write(redact(`${lineOf(item, opts.json)}\n`));
      },
      error: (err: Error) => {
        say(`stream failed: ${err.message}`);
        resolve(1);
      },
      complete: () => {
        say(opts.attach ? 'the comfywire process went away.' : 'connection closed.');
        resolve(0);
      },
    });
    process.once('SIGINT', () => {
      sub.unsubscribe();
      resolve(0);
    });
  });
  const code = await done;
  await closeSource();
  return code;
}
