/**
 * `comfywire doctor`'s checks of a ComfyUI host (reachability, credentials, socket, /object_info,
 * node classes of the templates, checkpoints). With several hosts each line is named with its host,
 * and one line names every host that failed; one host uses the same checks under plain names.
 */
import type { Config } from '../config.js';
import { ComfyClient } from '../comfy/client.js';
import type { ObjectInfo } from '../comfy/types.js';
import { exposureWarning } from '../exposure.js';
import type { HostSpec } from '../fleet/hosts.js';
import { checkAuth, checkCheckpoints, checkReachable, checkWebSocket, fetchStats } from './server-checks.js';
import { checkNodeClasses, type TemplateScan } from './template-checks.js';
import { errorText, fail, ok, warn, type DoctorCheck } from './types.js';

export interface HostReport {
  host: HostSpec;
  checks: DoctorCheck[];
  /** Its /object_info when it answered (templates are checked against every host's, merged). */
  objectInfo: ObjectInfo | undefined;
  /** It answered /system_stats as a ComfyUI: worth asking for its models. */
  serving: boolean;
}

/** One host's configuration: the shared settings with its own address and credentials. */
export function hostConfig(config: Readonly<Config>, host: HostSpec): Readonly<Config> {
  return { ...config, comfyUrl: host.url, auth: host.auth };
}

/** The checks that talk to one host; their names start with the host's when `named`. */
export async function checkHostServer(
  config: Readonly<Config>,
  host: HostSpec,
  options: { requestTimeoutMs: number; websocketTimeoutMs?: number | undefined; named: boolean },
): Promise<HostReport> {
  const own = hostConfig(config, host);
  const name = (check: DoctorCheck): DoctorCheck => (options.named ? { ...check, name: `${host.name} ${check.name}` } : check);
  const checks: DoctorCheck[] = [];
  const exposure = exposureWarning(own.comfyUrl);
  if (exposure) {
    checks.push(
      warn('exposure', exposure, own.comfyUrl.startsWith('https:')
        ? 'Nothing to fix if you trust that server; run ComfyUI on this machine to keep prompts local.'
        : 'Use https:// (a reverse proxy with TLS in front of ComfyUI) or an SSH tunnel to 127.0.0.1.'),
    );
  }
  const client = new ComfyClient({
    baseUrl: own.comfyUrl, auth: own.auth, clientId: own.clientId,
    requestTimeoutMs: options.requestTimeoutMs, retry: { retries: 0 },
  });
  const stats = await fetchStats(client);
  checks.push(checkReachable(own.comfyUrl, stats));
  const serving = stats.kind === 'ok';
  if (stats.kind !== 'failed') checks.push(checkAuth(own, stats));
  let objectInfo: ObjectInfo | undefined;
  if (serving) {
    checks.push(await checkWebSocket(own, options.websocketTimeoutMs));
    try {
      objectInfo = await client.getObjectInfo();
    } catch (error) {
      checks.push(fail('object_info', `GET /object_info failed: ${errorText(error)}`, 'Check the ComfyUI console: a custom node that fails to load can break /object_info.'));
    }
  }
  return { host, checks: checks.map(name), objectInfo, serving };
}

/** After the templates are scanned: the host's node classes and checkpoints, named with the host when `named`. */
export async function checkHostModels(report: HostReport, scan: TemplateScan, config: Readonly<Config>, requestTimeoutMs: number, named: boolean): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  if (report.objectInfo) out.push(checkNodeClasses(scan, report.objectInfo));
  if (report.serving) {
    const own = hostConfig(config, report.host);
    const client = new ComfyClient({ baseUrl: own.comfyUrl, auth: own.auth, clientId: own.clientId, requestTimeoutMs, retry: { retries: 0 } });
    out.push(await checkCheckpoints(client));
  }
  return named ? out.map((c) => ({ ...c, name: `${report.host.name} ${c.name}` })) : out;
}

/** One line over every host: ok when all pass, else a fail naming each failing host and its checks. */
export function checkHostsSummary(reports: ReadonlyArray<{ host: HostSpec; checks: readonly DoctorCheck[] }>): DoctorCheck {
  const failing = reports
    .map((r) => ({ name: r.host.name, failed: r.checks.filter((c) => c.status === 'fail').map((c) => c.name.slice(r.host.name.length + 1)) }))
    .filter((r) => r.failed.length > 0);
  if (failing.length === 0) return ok('hosts', `${reports.length} ComfyUI hosts, every one passes: ${reports.map((r) => r.host.name).join(', ')}`);
  return fail(
    'hosts',
    `${failing.length} of ${reports.length} hosts failed: ${failing.map((f) => `${f.name} (${f.failed.join(', ')})`).join('; ')}`,
    'Fix each failing host (its lines above say how) or take it out of COMFYUI_URLS / COMFYWIRE_HOSTS_FILE; jobs only go to hosts that are up and have what a workflow needs.',
  );
}
