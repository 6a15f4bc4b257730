import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { Observable } from 'rxjs';
import type { FeedHello, FeedLine } from './feed-line.js';

/** The lines of one process's feed; completes when that process goes away. */
export function readFeed(address: string): Observable<FeedLine | FeedHello> {
  return new Observable((subscriber) => {
    const socket = connect(address);
    socket.on('error', (err) => subscriber.error(err));
    const lines = createInterface({ input: socket });
    lines.on('line', (line) => {
      try {
        subscriber.next(JSON.parse(line) as FeedLine | FeedHello);
      } catch {
        // A torn line from a dying publisher: skip it.
      }
    });
    lines.on('close', () => subscriber.complete());
    return () => {
      lines.close();
      socket.destroy();
    };
  });
}
