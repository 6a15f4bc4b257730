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
    const connection = new ComfyConnection({
      baseUrl: config.comfyUrl,
      clientId: `comfywire-tail-${randomUUID()}`,
      headers: authHeaders(config.auth),
      stallTimeoutMs: config.stallTimeoutMs,
      pingIntervalMs: config.pingIntervalMs,
      logger,
    });
    const running = listFeeds();
    // "connected" only once the socket has opened (state$ below): said earlier, a script that
    // waits for it and then posts a prompt could miss that prompt's first events.
    say(`connecting to ${config.comfyUrl}...`);
    say(
      'ComfyUI sends execution events only to the client that submitted a prompt: here you see queue status ' +
        "for everyone and the full events of prompts posted without client_id. To see a comfywire's own jobs, use `comfywire tail --attach`" +
        (running.length ? ` (${running.length} running: pid ${running.map((f) => f.pid).join(', ')}).` : '.'),
    );
    let opened = false;
    connection.state$.subscribe((s) => {
      if (s === 'reconnecting') say(`connection to ${config.comfyUrl} lost; reconnecting...`);
      if (s === 'open') say(opened ? `connected to ${config.comfyUrl} again` : `connected to ${config.comfyUrl} as an observer.`);
      if (s === 'open') opened = true;
    });
    connection.start();
    const names = new NodeNames(
      new ComfyClient({ baseUrl: config.comfyUrl, auth: config.auth, clientId: 'comfywire-tail', requestTimeoutMs: 5000 }),
    );
    // concatMap keeps the order; only the first event of a prompt waits for its lookup.
    items$ = connection.events$.pipe(
      concatMap(async (event) => {
        const t = Date.now();
        const pid = promptIdOf(event);
        const nodeId = nodeIdOf(event);
        const node = pid && nodeId ? own(await names.of(pid), nodeId) : undefined;
        return node ? { event, t, node } : { event, t };
      }),
    );
    closeSource = () => connection.close();
  }

  const wanted = opts.prompt;
  const done = new Promise<number>((resolve) => {
    const sub = items$.subscribe({
      next: (item) => {
        if (wanted) {
          const pid = promptIdOf(item.event);
          if (!pid || !pid.startsWith(wanted)) return;
        }
        process.stdout.write(redact(opts.json ? `${JSON.stringify({ t: item.t, ...item.event })}\n` : `${formatEvent(item.event, item.t, item.node)}\n`));
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
