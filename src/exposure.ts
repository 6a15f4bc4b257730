import { isIP } from 'node:net';

/**
 * Where comfywire's traffic can be seen. ComfyUI has no authentication and no TLS of its own:
 * a prompt (and every image) sent to a ComfyUI on another machine crosses the network, readable
 * by anyone on the path unless it goes over https.
 */

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '::ffff:127.0.0.1' || h === '::ffff:7f00:1';
}

/** The warning for a ComfyUI URL off this machine; undefined for a loopback one. */
export function exposureWarning(comfyUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(comfyUrl);
  } catch {
    return undefined;
  }
  if (isLoopback(url.hostname)) return undefined;
  return url.protocol === 'https:'
    ? `ComfyUI is on another machine (${url.origin}): prompts and images cross the network, encrypted by https; ` +
        'that server and whoever runs it see them.'
    : `prompts and images cross the network unencrypted to ${url.origin}: anyone on the path can read them (and any credentials). ` +
        'Put ComfyUI behind an https reverse proxy, or reach it through an SSH tunnel (ssh -L 8188:127.0.0.1:8188 host) and use http://127.0.0.1:8188.';
}
