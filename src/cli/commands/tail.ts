import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { EMPTY, merge, catchError, filter, map, type Observable } from 'rxjs';
import { authHeaders, loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { ComfyConnection } from '../../../streams/connection.js';
import { promptIdOf, type ComfyEvent } from '../../../streams/messages.js';
import { listFeeds } from '../../feed/feed-address.js';
import { readFeed } from '../../feed/feed-client.js';
import type { FeedLine } from '../../feed/feed-line.js';
import { formatEvent, type NodeInfoHint } from '../render/event-line.js';
import { handleError } from '../handle-error.js';

/**
 * `comfywire tail`: the live event stream, one readable line per event (or raw JSON lines).
 *
 * ComfyUI sends a prompt's execution events only to the socket that submitted it. Connected
 * directly, tail therefore sees queue status for everyone and the full events of prompts posted
 * without a client_id, nothing more. `--attach` reads a running comfywire's local feed instead,
 * which carries every event of the prompts that process submitted.
 */
interface TailOptions {
  json?: boolean;
  prompt?: string;
  attach?: string | boolean;
}

export function tailCommand(): Command {
  return new Command('tail')
    .description('print the live ComfyUI event stream (for debugging)')
    .option('--json', 'raw JSON lines instead of readable lines')
    .option('--prompt <id>', 'only events of this prompt (a prefix is enough)')
    .option('--attach [pid]', "read a running comfywire's event feed (sees its prompts' execution events)")
    .action(async (opts: TailOptions) => {
      try {
        process.exitCode = await runTail(opts);
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}

interface Item {
  event: ComfyEvent;
  t: number;
  node?: NodeInfoHint;
}

async function runTail(opts: TailOptions): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
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
    for (const f of feeds) say(`attached to comfywire pid ${f.pid} (${f.command}) -> ${f.comfyUrl}`);
    items$ = merge(
      ...feeds.map((f) =>
        readFeed(f.address).pipe(
          catchError((err: Error) => {
            say(`feed of pid ${f.pid} failed: ${err.message}`);
            return EMPTY;
          }),
        ),
      ),
    ).pipe(filter((line): line is FeedLine => !('hello' in line)));
  } else {
    const config = loadConfig();
    const logger = createLogger('warn');
    const connection = new ComfyConnection({
      baseUrl: config.comfyUrl,
      clientId: `comfywire-tail-${randomUUID()}`,
      headers: authHeaders(config.auth),
      stallTimeoutMs: config.stallTimeoutMs,
      pingIntervalMs: config.pingIntervalMs,
      logger,
    });
    const running = listFeeds();
    say(`connected to ${config.comfyUrl} as an observer.`);
    say(
      'ComfyUI sends execution events only to the client that submitted a prompt: here you see queue status ' +
        "for everyone and the full events of prompts posted without client_id. To see a comfywire's own jobs, use `comfywire tail --attach`" +
        (running.length ? ` (${running.length} running: pid ${running.map((f) => f.pid).join(', ')}).` : '.'),
    );
    connection.state$.subscribe((s) => {
      if (s === 'reconnecting') say(`connection to ${config.comfyUrl} lost; reconnecting...`);
      if (s === 'open') say(`connected to ${config.comfyUrl}`);
    });
    connection.start();
    items$ = connection.events$.pipe(map((event) => ({ event, t: Date.now() })));
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
        process.stdout.write(opts.json ? `${JSON.stringify({ t: item.t, ...item.event })}\n` : `${formatEvent(item.event, item.t, item.node)}\n`);
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
