import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from '../context.js';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Capture groups of the path pattern, already URL-decoded. */
  params: string[];
  ctx: SimContext;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: RegExp;
  handle(r: RouteRequest): Promise<void> | void;
}
