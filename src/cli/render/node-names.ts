import type { ComfyClient } from '../../comfy/client.js';
import type { ApiPrompt } from '../../comfy/types.js';
import type { NodeInfoHint } from './event-line.js';

/**
 * Node class types and titles of prompts this process did not submit, for `tail`: ComfyUI's
 * events carry only node ids, but the prompt itself is in /queue while it waits or runs (and in
 * /history after). Looked up once per prompt id.
 */
export class NodeNames {
  private readonly known = new Map<string, Promise<Record<string, NodeInfoHint>>>();

  constructor(private readonly client: Pick<ComfyClient, 'getQueue' | 'getHistory'>) {}

  of(promptId: string): Promise<Record<string, NodeInfoHint>> {
    let names = this.known.get(promptId);
    if (!names) {
      names = this.lookup(promptId).catch(() => ({}));
      this.known.set(promptId, names);
    }
    return names;
  }

  private async lookup(promptId: string): Promise<Record<string, NodeInfoHint>> {
    const queue = await this.client.getQueue();
    const item = [...queue.running, ...queue.pending].find((i) => i.promptId === promptId);
    let prompt: ApiPrompt | undefined = item?.prompt;
    if (!prompt) {
      const entry = await this.client.getHistory(promptId);
      prompt = entry?.prompt[2] as ApiPrompt | undefined;
    }
    const names: Record<string, NodeInfoHint> = {};
    for (const [id, node] of Object.entries(prompt ?? {})) {
      names[id] = node._meta?.title ? { classType: node.class_type, title: node._meta.title } : { classType: node.class_type };
    }
    return names;
  }
}
