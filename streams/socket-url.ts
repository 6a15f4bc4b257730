/**
 * The WebSocket URL for a ComfyUI base URL: same host and port, `ws` for `http` and `wss` for
 * `https`, the base URL's path prefix kept (ComfyUI behind a reverse proxy at `/comfy/`), then
 * `/ws?clientId=<id>`. Existing query parameters (a proxy token, say) are kept.
 */
export function socketUrl(baseUrl: string, clientId: string): string {
  const url = new URL(baseUrl);
  switch (url.protocol) {
    case 'http:':
    case 'ws:':
      url.protocol = 'ws:';
      break;
    case 'https:':
    case 'wss:':
      url.protocol = 'wss:';
      break;
    default:
      throw new TypeError(`ComfyUI base URL must be http(s) or ws(s), got "${url.protocol}" in ${redactUrl(baseUrl)}`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  url.searchParams.set('clientId', clientId);
  url.hash = '';
  return url.toString();
}

/** The URL with any password replaced, for log lines and error messages. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw;
  }
}
