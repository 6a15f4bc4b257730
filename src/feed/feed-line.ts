import type { ComfyEvent } from '../../streams/messages.js';

/** One line of the local feed (NDJSON): an event plus what the publisher knows of its node. */
export interface FeedLine {
  t: number;
  event: ComfyEvent;
  node?: { classType?: string; title?: string };
  /** The ComfyUI host that sent the event, when the publisher drives several. */
  host?: string;
}

export interface FeedHello {
  hello: { pid: number; comfyUrl: string; clientId: string };
}

/** Preview images are dropped from the feed: tail shows that one arrived, not its pixels. */
export function serializeEvent(event: ComfyEvent): ComfyEvent {
  if (event.type !== 'preview') return event;
  const { image, ...rest } = event.data;
  return { type: 'preview', data: { ...rest, image: new Uint8Array(), bytes: image.byteLength } as never };
}
