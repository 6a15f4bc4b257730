import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ComfyClient } from '../comfy/client.js';
import type { UploadOptions, UploadSource } from '../comfy/upload-form.js';
import type { ComfyReads } from '../engine-api.js';
import type { Fleet, Host } from './fleet.js';

/**
 * ComfyUI's read calls answered for a whole fleet, for the code written against one server:
 * lists are merged (queues, history, model folders and files), a question about one prompt goes
 * to the host that has it, server-wide facts come from the first host that is up, and an input
 * image is uploaded to every host that is up under a name taken from its content, so any host can
 * run the job that names it. Tools that show hosts one by one ask the fleet itself (Fleet.hosts).
 */
export class FleetReads implements ComfyReads {
  constructor(private readonly fleet: Fleet) {}

  get baseUrl(): string {
    return this.fleet.config.comfyUrl;
  }

  private up(): Host[] {
    const up = this.fleet.hosts.filter((h) => h.engine.connection.state === 'open');
    // None up: ask them all, so the caller gets the real reason (unreachable, refused...).
    return up.length > 0 ? up : [...this.fleet.hosts];
  }

  private first(): ComfyClient {
    return this.up()[0]!.engine.client;
  }

  /** Every up host's answer; throws only when all fail (with the first failure). */
  private async all<T>(ask: (client: ComfyClient) => Promise<T>): Promise<T[]> {
    const answers = await Promise.allSettled(this.up().map((h) => ask(h.engine.client)));
    const ok = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    if (ok.length === 0) throw (answers[0] as PromiseRejectedResult).reason;
    return ok;
  }

  async getQueue(): ReturnType<ComfyClient['getQueue']> {
    const queues = await this.all((c) => c.getQueue());
    return { running: queues.flatMap((q) => q.running), pending: queues.flatMap((q) => q.pending) };
  }

  async getHistory(promptId: string): ReturnType<ComfyClient['getHistory']> {
    const owner = this.fleet.hostOf(promptId);
    if (owner) return owner.engine.client.getHistory(promptId);
    for (const entry of await this.all((c) => c.getHistory(promptId))) if (entry) return entry;
    return undefined;
  }

  async getHistoryList(opts?: Parameters<ComfyClient['getHistoryList']>[0]): ReturnType<ComfyClient['getHistoryList']> {
    return (await this.all((c) => c.getHistoryList(opts))).flat();
  }

  getSystemStats(): ReturnType<ComfyClient['getSystemStats']> {
    return this.first().getSystemStats();
  }

  getFeatures(): ReturnType<ComfyClient['getFeatures']> {
    return this.first().getFeatures();
  }

  async getNodeInfo(classType: string): ReturnType<ComfyClient['getNodeInfo']> {
    for (const info of await this.all((c) => c.getNodeInfo(classType))) if (info) return info;
    return undefined;
  }

  async listModelFolders(): Promise<string[]> {
    return [...new Set((await this.all((c) => c.listModelFolders())).flat())];
  }

  async listModels(folder: string): Promise<string[]> {
    return [...new Set((await this.all((c) => c.listModels(folder))).flat())];
  }

  /** The editor's saved workflows live in each ComfyUI's user folder: the first host's are read. */
  listUserWorkflows(): ReturnType<ComfyClient['listUserWorkflows']> {
    return this.first().listUserWorkflows();
  }

  readUserWorkflow(path: string): ReturnType<ComfyClient['readUserWorkflow']> {
    return this.first().readUserWorkflow(path);
  }

  viewUrl(...args: Parameters<ComfyClient['viewUrl']>): string {
    return this.first().viewUrl(...args);
  }

  download(...args: Parameters<ComfyClient['download']>): ReturnType<ComfyClient['download']> {
    return this.first().download(...args);
  }

  /**
   * To every host that is up, named `<sha256 prefix>-<name>` so each host stores it under the same
   * name: ComfyUI renames an upload whose name is taken by other content, and hosts differ in what
   * they hold. All must take it; the first failure is reported with the host's name.
   */
  async uploadImage(source: UploadSource, opts: UploadOptions = {}): ReturnType<ComfyClient['uploadImage']> {
    const data = 'data' in source ? source.data : await readFile(source.path);
    const name = 'data' in source ? source.filename : basename(source.path);
    const hash = createHash('sha256').update(data).digest('hex').slice(0, 12);
    const named = { data, filename: name.startsWith(`${hash}-`) ? name : `${hash}-${name}` };
    const hosts = this.up();
    const replies = await Promise.allSettled(hosts.map((h) => h.engine.client.uploadImage(named, opts)));
    const failed = replies.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      const reason = (replies[failed] as PromiseRejectedResult).reason as Error;
      reason.message = `Uploading to ${hosts[failed]!.spec.name} failed: ${reason.message}`;
      throw reason;
    }
    return (replies[0] as PromiseFulfilledResult<Awaited<ReturnType<ComfyClient['uploadImage']>>>).value;
  }
}
