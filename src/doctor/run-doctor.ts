/**
 * Runs the checks in the order a person would fix things: runtime, configuration, the server,
 * its socket, the templates against the server's nodes, models, and the output folder.
 * Checks that cannot mean anything without an earlier one (no config, no server) are left out.
 */
import { checkCallLogDatabase, checkCallLogFile } from './call-log-checks.js';
import { checkConfig, checkNodeVersion, checkOutputWritable } from './local-checks.js';
import { checkVideoDecoder } from './media-checks.js';
import { checkDefaultWorkflow, checkTemplates, scanTemplates } from './template-checks.js';
import type { DoctorCheck } from './types.js';
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
  const server = config.hosts.length > 1 ? await fleetChecks(config, options) : await singleHostChecks(config, options);
  return [...checks, ...server, ...(await localChecks(config))];
}

/** One host: its server checks under their plain names, then the templates against its nodes and models. */
async function singleHostChecks(config: Readonly<Config>, options: DoctorOptions): Promise<DoctorCheck[]> {
  const requestTimeoutMs = Math.min(config.requestTimeoutMs, DOCTOR_REQUEST_TIMEOUT_MS);
  const report = await checkHostServer(config, config.hosts[0]!, { requestTimeoutMs, websocketTimeoutMs: options.websocketTimeoutMs, named: false });
  const scan = await scanTemplates(config.workflowsDir, report.objectInfo);
  return [
    ...report.checks,
    checkTemplates(config.workflowsDir, scan),
    checkDefaultWorkflow(config, scan),
    ...(await checkHostModels(report, scan, config, requestTimeoutMs, false)),
  ];
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
  const perHost = await Promise.all(reports.map(async (r) => [...r.checks, ...(await checkHostModels(r, scan, config, requestTimeoutMs, true))]));
  return [
    ...perHost.flat(),
    checkTemplates(config.workflowsDir, scan),
    checkDefaultWorkflow(config, scan),
    checkHostsSummary(reports.map((r, i) => ({ host: r.host, checks: perHost[i]! }))),
  ];
}

/** What needs no ComfyUI: the output folder, the video decoder, the call log. */
async function localChecks(config: Readonly<Config>): Promise<DoctorCheck[]> {
  const checks = [await checkOutputWritable(config.outputDir), await checkVideoDecoder(config.ffmpeg), await checkCallLogFile(config)];
  const database = await checkCallLogDatabase(config, DOCTOR_REQUEST_TIMEOUT_MS);
  return database ? [...checks, database] : checks;
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
