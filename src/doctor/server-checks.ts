/** Checks that talk to ComfyUI: HTTP reachability, credentials, the WebSocket, the checkpoints. */
import { filter, firstValueFrom, map, race, timer } from 'rxjs';
import { authHeaders, type Config } from '../config.js';
import type { ComfyClient, SystemStats } from '../comfy/client.js';
import { ComfyAuthRefusedError, ComfyHttpError, ComfywireError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { ComfyConnection } from '../../streams/connection.js';
import { defaultWebSocketFactory, type WebSocketFactory } from '../../streams/socket-session.js';
import { errorText, fail, ok, warn, type DoctorCheck } from './types.js';

/** Long enough for a busy ComfyUI to answer, short enough that a dead one is reported quickly. */
export const WEBSOCKET_TIMEOUT_MS = 5_000;
const GIB = 1024 ** 3;

/** What GET /system_stats told us; the auth check reads the same answer. */
export type StatsOutcome = { kind: 'ok'; stats: SystemStats } | { kind: 'refused'; status: number } | { kind: 'failed'; error: unknown };

export async function fetchStats(client: ComfyClient): Promise<StatsOutcome> {
  try {
    return { kind: 'ok', stats: await client.getSystemStats() };
  } catch (error) {
    if (error instanceof ComfyAuthRefusedError) return { kind: 'refused', status: Number(error.context['status']) };
    return { kind: 'failed', error };
  }
}

function describeStats(stats: SystemStats): string {
  const version = stats.system.comfyui_version ? `ComfyUI ${stats.system.comfyui_version}` : 'ComfyUI (version not reported)';
  const devices = stats.devices.map((d) => {
    const vram = d.vram_total ? ` (${(d.vram_total / GIB).toFixed(1)} GiB VRAM, ${((d.vram_free ?? 0) / GIB).toFixed(1)} GiB free)` : '';
    return `${d.name}${vram}`;
  });
  return `${version}; ${devices.length ? devices.join(', ') : 'no devices reported'}`;
}

export function checkReachable(url: string, outcome: StatsOutcome): DoctorCheck {
  if (outcome.kind === 'ok') return ok('comfyui', `${url}: ${describeStats(outcome.stats)}`);
  if (outcome.kind === 'refused') return ok('comfyui', `${url} answers (HTTP ${outcome.status} without accepted credentials)`);
  const { error } = outcome;
  const fix = error instanceof ComfyHttpError
    ? `Something answered at ${url} but not like ComfyUI: check that COMFYUI_URL points at ComfyUI itself (scheme, host, port and any path prefix).`
    : error instanceof ComfywireError && error.hint ? error.hint : 'Check that ComfyUI is running and that COMFYUI_URL points at it.';
  return fail('comfyui', errorText(error), fix);
}

export function checkAuth(config: Readonly<Config>, outcome: StatsOutcome): DoctorCheck {
  if (outcome.kind === 'ok') return ok('auth', config.auth.kind === 'none' ? 'no credentials needed' : `${config.auth.kind} credentials accepted`);
  const status = outcome.kind === 'refused' ? outcome.status : 0;
  const sent = config.auth.kind === 'none' ? 'no credentials were sent' : `the ${config.auth.kind} credentials were refused`;
  return fail('auth', `HTTP ${status}: ${sent}`,
    'ComfyUI itself has no login, so a reverse proxy in front of it is asking. Set COMFYUI_AUTH_TOKEN (sent as "Authorization: Bearer ..."), ' +
      'COMFYUI_AUTH_BASIC ("user:password"), or COMFYUI_AUTH_HEADER_NAME + COMFYUI_AUTH_HEADER_VALUE to what the proxy expects.');
}

/** Opens the socket the engine would use and waits for the server's feature_flags reply. */
export async function checkWebSocket(config: Readonly<Config>, timeoutMs = WEBSOCKET_TIMEOUT_MS): Promise<DoctorCheck> {
  let lastError: string | undefined;
  // The connection retries quietly; the factory is where the first failure's reason can be seen.
  const factory: WebSocketFactory = (url, headers) => {
    const socket = defaultWebSocketFactory(url, headers);
    socket.addEventListener('error', (ev: { message?: string; error?: Error }) => (lastError ??= ev.message ?? ev.error?.message));
    return socket;
  };
  const connection = new ComfyConnection({
    baseUrl: config.comfyUrl, clientId: config.clientId, headers: authHeaders(config.auth), webSocketFactory: factory,
    logger: silentLogger(), stallTimeoutMs: 0, pingIntervalMs: 0,
  });
  const started = Date.now();
  try {
    connection.start();
    const result = await firstValueFrom(race(
      connection.serverFeatures$.pipe(map((features) => ({ kind: 'features' as const, features }))),
      connection.state$.pipe(filter((s) => s === 'reconnecting'), map(() => ({ kind: 'failed' as const }))),
      timer(timeoutMs).pipe(map(() => ({ kind: 'timeout' as const }))),
    ));
    if (result.kind === 'features') {
      return ok('websocket', `${connection.url.replace(/\?.*$/, '')}: open, feature_flags in ${Date.now() - started} ms (${Object.keys(result.features).join(', ') || 'no flags'})`);
    }
    if (result.kind === 'timeout' && connection.state === 'open') {
      return warn('websocket', `open, but no feature_flags reply within ${timeoutMs} ms`,
        'ComfyUI older than v0.3.45 does not send feature_flags; update ComfyUI for sampler previews and the newest progress messages.');
    }
    const why = lastError ?? (result.kind === 'timeout' ? `no answer within ${timeoutMs} ms` : 'the connection closed');
    return fail('websocket', `${connection.url.replace(/\?.*$/, '')} did not open: ${why}`, /\b(401|403)\b/.test(why)
      ? 'The proxy refused the WebSocket upgrade: it must accept the same COMFYUI_AUTH_* credentials on /ws as on HTTP.'
      : 'HTTP works but the WebSocket does not: a reverse proxy must forward the Upgrade and Connection headers for /ws (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade").');
  } finally {
    await connection.close();
  }
}

export async function checkCheckpoints(client: ComfyClient): Promise<DoctorCheck> {
  try {
    const names = await client.listModels('checkpoints');
    if (names.length === 0) {
      return warn('checkpoints', 'no checkpoints in models/checkpoints',
        'Put a checkpoint (.safetensors) into ComfyUI/models/checkpoints, e.g. v1-5-pruned-emaonly.safetensors for the shipped sd15 templates, then refresh ComfyUI.');
    }
    const shown = names.slice(0, 5).join(', ');
    return ok('checkpoints', `${names.length}: ${shown}${names.length > 5 ? ', ...' : ''}`);
  } catch (error) {
    return warn('checkpoints', `could not list checkpoints: ${errorText(error)}`,
      'ComfyUI answers GET /models/checkpoints since 2024; update ComfyUI, or check its console for errors.');
  }
}
