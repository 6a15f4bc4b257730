/**
 * Runs the checks in the order a person would fix things: runtime, configuration, the server,
 * its socket, the templates against the server's nodes, models, and the output folder.
 * Checks that cannot mean anything without an earlier one (no config, no server) are left out.
 */
import { ComfyClient } from '../comfy/client.js';
import type { ObjectInfo } from '../comfy/types.js';
import { checkCallLogDatabase, checkCallLogFile } from './call-log-checks.js';
import { checkConfig, checkNodeVersion, checkOutputWritable } from './local-checks.js';
import { checkVideoDecoder } from './media-checks.js';
import { checkAuth, checkCheckpoints, checkReachable, checkWebSocket, fetchStats } from './server-checks.js';
import { checkDefaultWorkflow, checkNodeClasses, checkTemplates, scanTemplates } from './template-checks.js';
import { errorText, fail, warn, type DoctorCheck } from './types.js';
import { exposureWarning } from '../exposure.js';
import type { Config } from '../config.js';
import { mergeObjectInfo } from '../fleet/merge-object-info.js';
import { checkHostModels, checkHostServer, checkHostsSummary } from './host-checks.js';
import { redactDeep, redactorFor, redactUrls, type Redactor } from '../redact.js';

/** Doctor should report a dead server in seconds, not after the normal request timeout and retries. */
export const DOCTOR_REQUEST_TIMEOUT_MS = 5_000;

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  /** Settings that win over the environment (e.g. the simulator's URL). */
  overrides?: Record<string, string | undefined>;
  websocketTimeoutMs?: number;
}

/** The report is printed and may be pasted into an issue: every text in it is redacted. */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const { check, config } = checkConfig(options.env ?? process.env, options.overrides);
  const redact: Redactor = config ? redactorFor(config) : redactUrls;
  const checks = await runChecks(check, config, options);
  return checks.map((c) => redactDeep(c, redact));
}

async function runChecks(check: DoctorCheck, config: ReturnType<typeof checkConfig>['config'], options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [checkNodeVersion(), check];
  if (!config) return checks;
  if (config.hosts.length > 1) return [...checks, ...(await fleetChecks(config, options))];
  const exposure = exposureWarning(config.comfyUrl);
  if (exposure) {
    checks.push(
      warn('exposure', exposure, config.comfyUrl.startsWith('https:')
        ? 'Nothing to fix if you trust that server; run ComfyUI on this machine to keep prompts local.'
        : 'Use https:// (a reverse proxy with TLS in front of ComfyUI) or an SSH tunnel to 127.0.0.1.'),
    );
  }

  const client = new ComfyClient({
    baseUrl: config.comfyUrl, auth: config.auth, clientId: config.clientId,
    requestTimeoutMs: Math.min(config.requestTimeoutMs, DOCTOR_REQUEST_TIMEOUT_MS), retry: { retries: 0 },
  });
  const stats = await fetchStats(client);
  checks.push(checkReachable(config.comfyUrl, stats));
  const serving = stats.kind === 'ok';
  if (stats.kind !== 'failed') checks.push(checkAuth(config, stats));

  let objectInfo: ObjectInfo | undefined;
  if (serving) {
    checks.push(await checkWebSocket(config, options.websocketTimeoutMs));
    try {
      objectInfo = await client.getObjectInfo();
    } catch (error) {
      checks.push(fail('object_info', `GET /object_info failed: ${errorText(error)}`, 'Check the ComfyUI console: a custom node that fails to load can break /object_info.'));
    }
  }
  const scan = await scanTemplates(config.workflowsDir, objectInfo);
  checks.push(checkTemplates(config.workflowsDir, scan));
  checks.push(checkDefaultWorkflow(config, scan));
  if (objectInfo) checks.push(checkNodeClasses(scan, objectInfo));
  if (serving) checks.push(await checkCheckpoints(client));
  checks.push(await checkOutputWritable(config.outputDir));
  checks.push(await checkVideoDecoder(config.ffmpeg));
  checks.push(await checkCallLogFile(config));
  const database = await checkCallLogDatabase(config, DOCTOR_REQUEST_TIMEOUT_MS);
  if (database) checks.push(database);
  return checks;
}

/** Several hosts: each host's server checks named with it, the templates against all of them, a summary. */
async function fleetChecks(config: Readonly<Config>, options: DoctorOptions): Promise<DoctorCheck[]> {
  const requestTimeoutMs = Math.min(config.requestTimeoutMs, DOCTOR_REQUEST_TIMEOUT_MS);
  // Hosts are checked side by side: a dead one costs its timeout once, not once per host.
  const reports = await Promise.all(
    config.hosts.map((host) => checkHostServer(config, host, { requestTimeoutMs, websocketTimeoutMs: options.websocketTimeoutMs, named: true })),
  );
  const infos = reports.flatMap((r) => (r.objectInfo ? [r.objectInfo] : []));
  const scan = await scanTemplates(config.workflowsDir, infos.length ? mergeObjectInfo(infos) : undefined);
  const perHost = await Promise.all(reports.map(async (r) => [...r.checks, ...(await checkHostModels(r, scan, config, requestTimeoutMs))]));
  const checks = perHost.flat();
  checks.push(checkTemplates(config.workflowsDir, scan));
  checks.push(checkDefaultWorkflow(config, scan));
  checks.push(checkHostsSummary(reports.map((r, i) => ({ host: r.host, checks: perHost[i]! }))));
  checks.push(await checkOutputWritable(config.outputDir));
  checks.push(await checkVideoDecoder(config.ffmpeg));
  checks.push(await checkCallLogFile(config));
  const database = await checkCallLogDatabase(config, DOCTOR_REQUEST_TIMEOUT_MS);
  if (database) checks.push(database);
  return checks;
}

export function doctorPassed(checks: readonly DoctorCheck[]): boolean {
  return checks.every((c) => c.status !== 'fail');
}

/** One line per check for stderr; a fix line under every warn and fail. */
export function formatChecks(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.flatMap((c) => [
    `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`,
    ...(c.fix ? [`${' '.repeat(6 + width)}  fix: ${c.fix}`] : []),
  ]);
  const count = (s: string) => checks.filter((c) => c.status === s).length;
  lines.push(`${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail`);
  return `${lines.join('\n')}\n`;
}
