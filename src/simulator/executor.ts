import { loadSharp } from '../lazy-sharp.js';
import { isLink, type ObjectInfo } from '../comfy/types.js';
import { packPreviewImage, packPreviewWithMetadata, packText, ImageFormat } from './binary-frames.js';
import { computeSignatures, type OutputCache } from './cache.js';
import { nowMs, sleep } from './clock.js';
import type { DataDir } from './data-dir.js';
import { ExecutionList } from './execution-list.js';
import type { ModelMemory } from './model-memory.js';
import { OOM_TYPE, type SimulatorFaults } from './faults.js';
import type { HistoryEntry } from './history-store.js';
import { InterruptedException, NodeException, type NodeContext, type NodeImpl, type RgbImage, type UiOutput } from './nodes/types.js';
import { itemArray, type QueueItem } from './prompt-queue.js';
import { ProgressRegistry } from './progress.js';
import { formatInputs } from './current-inputs.js';
import { clientTarget, type WsHub } from './ws-hub.js';

const OOM_TIPS = 'This error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.';
const SENSITIVE_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];

export interface ExecutorDeps {
  hub: WsHub;
  cache: OutputCache;
  files: DataDir;
  faults: SimulatorFaults;
  impls: Readonly<Record<string, NodeImpl>>;
  objectInfo: ObjectInfo;
  models: ModelMemory;
  stepDelayMs: number;
  previewMethod: 'none' | 'auto';
  /** The ffmpeg video nodes encode with, or undefined (they then fail as a node without its encoder does). */
  ffmpeg: () => Promise<string | undefined>;
}

/**
 * Runs one queue item the way ComfyUI's PromptExecutor does and returns its history entry.
 * Who receives what: execution_* / executing / executed only go to the submitter (and are
 * not sent without client_id); progress, progress_state, previews, TEXT and
 * execution_interrupted go to the submitter, or to everyone without client_id.
 */
export class Executor {
  private interruptRequested = false;
  private current: { promptId: string; clientId: string | undefined; lastNodeId: string | undefined } | undefined;

  constructor(private readonly deps: ExecutorDeps) {}

  interrupt(promptId?: string): void {
    if (!this.current) return;
    if (promptId === undefined || promptId === this.current.promptId) this.interruptRequested = true;
  }

  /** For the reconnect rule: the bare `executing` a returning submitter gets. */
  runningNodeFor(sid: string): string | undefined {
    return this.current && this.current.clientId === sid ? this.current.lastNodeId : undefined;
  }

  async run(item: QueueItem, signal: AbortSignal): Promise<HistoryEntry> {
    const { hub, cache, impls, objectInfo } = this.deps;
    const promptId = item.promptId;
    const clientId = clientTarget(item.extraData);
    const state = { promptId, clientId, lastNodeId: undefined as string | undefined };
    this.current = state;
    this.interruptRequested = false;
    const messages: Array<[string, Record<string, unknown>]> = [];
    const addMessage = (type: string, data: Record<string, unknown>, broadcast: boolean): void => {
      const stamped = { ...data, timestamp: nowMs() };
      messages.push([type, stamped]);
      if (clientId !== undefined || broadcast) hub.send(type, stamped, clientId);
    };
    const targeted = (type: string, data: unknown): void => {
      if (clientId !== undefined) hub.send(type, data, clientId);
    };
    const prompt = item.prompt;
    const signatures = computeSignatures(prompt, impls, { files: this.deps.files });
    const cachedNow = (id: string): boolean => cache.get(signatures.get(id) ?? '') !== undefined;
    const isOutput = (id: string): boolean => objectInfo[prompt[id]?.class_type ?? '']?.output_node === true;

    addMessage('execution_start', { prompt_id: promptId }, false);
    addMessage('execution_cached', { nodes: Object.keys(prompt).filter(cachedNow), prompt_id: promptId }, false);
    const progress = new ProgressRegistry(promptId, (data) => hub.send('progress_state', data, clientId));
    const list = new ExecutionList(prompt, cachedNow, isOutput);
    for (const o of item.outputs) list.addNode(o);
    const executed: string[] = [];
    const ui: Record<string, UiOutput> = {};
    // Nodes that produced an ExecutionBlocker: whatever links to them is skipped without a word.
    const blocked = new Set<string>();
    let status: 'success' | 'error' = 'success';

    while (!list.isEmpty && !signal.aborted) {
      const id = list.next();
      if (id === undefined) break;
      const node = prompt[id];
      const classType = node?.class_type ?? '';
      const signature = signatures.get(id) ?? '';
      const hit = cache.get(signature);
      if (hit) {
        // Cached output node: `executed` again with the old UI output (or null), no `executing`.
        targeted('executed', { node: id, display_node: id, output: hit.ui ?? null, prompt_id: promptId });
        if (hit.ui) ui[id] = hit.ui;
        progress.finish(id);
        list.complete(id);
        continue;
      }
      if (Object.values(node?.inputs ?? {}).some((v) => isLink(v) && blocked.has(v[0]))) {
        blocked.add(id);
        list.complete(id);
        continue;
      }
      const inputs: Record<string, unknown> = {};
      try {
        if (this.interruptRequested) throw new InterruptedException();
        progress.start(id);
        if (clientId !== undefined) state.lastNodeId = id;
        targeted('executing', { node: id, display_node: id, prompt_id: promptId });
        for (const [name, value] of Object.entries(node?.inputs ?? {})) {
          inputs[name] = isLink(value) ? cache.get(signatures.get(value[0]) ?? '')?.outputs[value[1]] : value;
        }
        const fault = this.deps.faults.forNode(id, classType);
        if (fault.delayMs > 0) await sleep(fault.delayMs, signal);
        if (fault.failure) throw new NodeException(fault.failure.message, fault.failure.exceptionType);
        if (fault.block !== undefined) {
          // Not terminal and not in history: no timestamp, empty traceback/inputs/outputs.
          const data = {
            prompt_id: promptId, node_id: id, node_type: classType, executed: [...executed],
            exception_message: `Execution Blocked: ${fault.block}`, exception_type: 'ExecutionBlocked',
            traceback: [], current_inputs: [], current_outputs: [],
          };
          hub.send('execution_error', data, clientId);
          blocked.add(id);
          progress.finish(id);
          list.complete(id);
          continue;
        }
        const result = await (impls[classType] as NodeImpl).run(inputs, this.nodeContext(id, state, progress, signal, item));
        if (signal.aborted) break;
        cache.set(signature, { outputs: result.outputs, ui: result.ui && Object.keys(result.ui).length > 0 ? result.ui : undefined });
        executed.push(id);
        if (result.ui && Object.keys(result.ui).length > 0) {
          ui[id] = result.ui;
          targeted('executed', { node: id, display_node: id, output: result.ui, prompt_id: promptId });
        }
        progress.finish(id);
        list.complete(id);
      } catch (err) {
        if (signal.aborted) break;
        status = 'error';
        if (err instanceof InterruptedException) {
          addMessage('execution_interrupted', { prompt_id: promptId, node_id: id, node_type: classType, executed: [...executed] }, true);
        } else {
          const exceptionType = err instanceof NodeException ? err.exceptionType : 'Exception';
          const text = err instanceof Error ? err.message : String(err);
          addMessage('execution_error', {
            prompt_id: promptId, node_id: id, node_type: classType, executed: [...executed],
            exception_message: exceptionType === OOM_TYPE ? `${text}\n${OOM_TIPS}\n` : `${text}\n`,
            exception_type: exceptionType,
            traceback: [`  File "<simulator>/nodes/${classType}", line 1, in execute\n    <source line omitted>\n`],
            current_inputs: formatInputs(inputs), current_outputs: Object.keys(prompt),
          }, false);
        }
        break;
      }
    }
    if (status === 'success' && !signal.aborted) await this.deps.faults.beforeOutcome(promptId, signal);
    if (status === 'success' && !signal.aborted) addMessage('execution_success', { prompt_id: promptId }, false);
    cache.keepOnly(signatures.values());
    this.current = undefined;
    return this.historyEntry(item, ui, status, messages);
  }

  private nodeContext(nodeId: string, state: { promptId: string; clientId: string | undefined }, progress: ProgressRegistry, signal: AbortSignal, item: QueueItem): NodeContext {
    const { hub } = this.deps;
    const { promptId, clientId } = state;
    const pngText: Record<string, string> = { prompt: JSON.stringify(item.prompt) };
    const pnginfo = item.extraData.extra_pnginfo;
    if (pnginfo && typeof pnginfo === 'object') for (const [k, v] of Object.entries(pnginfo)) pngText[k] = JSON.stringify(v);
    return {
      nodeId, promptId, signal, pngText, files: this.deps.files,
      stepDelayMs: this.deps.stepDelayMs, previewMethod: this.deps.previewMethod, ffmpeg: this.deps.ffmpeg,
      text: (text) => hub.sendBinary(packText(nodeId, text), clientId),
      loadCheckpoint: (name) => this.deps.models.load(name, signal),
      progress: async (value, max, preview) => {
        await this.deps.faults.beforeStep(promptId, nodeId, value, signal);
        // ComfyUI checks for a pending interrupt at every progress callback.
        if (this.interruptRequested) throw new InterruptedException();
        const jpeg = preview ? await toJpeg(preview) : undefined;
        const withMetadata = hub.supportsPreviewMetadata(clientId);
        progress.update(nodeId, value, max);
        if (jpeg && withMetadata) {
          const meta = { node_id: nodeId, prompt_id: promptId, display_node_id: nodeId, parent_node_id: null, real_node_id: nodeId, image_type: 'image/jpeg' };
          hub.sendBinary(packPreviewWithMetadata(meta, jpeg), clientId);
        }
        hub.send('progress', { value, max, prompt_id: promptId, node: nodeId }, clientId);
        if (jpeg && !withMetadata) hub.sendBinary(packPreviewImage(ImageFormat.JPEG, jpeg), clientId);
      },
    };
  }

  private historyEntry(item: QueueItem, ui: Record<string, UiOutput>, status: 'success' | 'error', messages: Array<[string, Record<string, unknown>]>): HistoryEntry {
    const extraData = Object.fromEntries(Object.entries(item.extraData).filter(([k]) => !SENSITIVE_KEYS.includes(k)));
    const meta: HistoryEntry['meta'] = {};
    for (const id of Object.keys(ui)) meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id };
    return {
      prompt: itemArray({ ...item, extraData }),
      outputs: ui,
      status: { status_str: status, completed: status === 'success', messages },
      meta,
    };
  }
}

/** Previews are JPEG at most 512 px, like --preview-size's default. */
async function toJpeg(image: RgbImage): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width: 512, height: 512, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 95 })
    .toBuffer();
}
