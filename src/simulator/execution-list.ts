import type { ApiPrompt } from '../comfy/types.js';
import { isLink } from '../comfy/types.js';

/**
 * ComfyUI's ExecutionList: nodes are added depth-first from each output node (sources that
 * are already cached are not added), then repeatedly the "UX friendly" ready node runs:
 * an output node first, else a node feeding an output node, else one two steps away,
 * else the first ready node in insertion order.
 */
export class ExecutionList {
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  private readonly blocking = new Map<string, Set<string>>();

  constructor(
    private readonly prompt: ApiPrompt,
    private readonly isCached: (id: string) => boolean,
    private readonly isOutput: (id: string) => boolean,
  ) {}

  addNode(root: string): void {
    const stack = [root];
    const links: Array<[string, string]> = [];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Set());
      for (const value of Object.values(this.prompt[id]?.inputs ?? {})) {
        if (!isLink(value)) continue;
        if (!this.isCached(value[0])) stack.push(value[0]);
        links.push([value[0], id]);
      }
    }
    for (const [from, to] of links) {
      if (this.isCached(from)) continue;
      this.addNode(from);
      const blocked = this.blocking.get(from) as Set<string>;
      if (!blocked.has(to)) {
        blocked.add(to);
        this.blockCount.set(to, (this.blockCount.get(to) ?? 0) + 1);
      }
    }
  }

  get isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** The next node to run, or undefined when nothing is ready (a cycle). */
  next(): string | undefined {
    const ready = [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
    const blocks = (id: string): string[] => [...(this.blocking.get(id) ?? [])];
    return (
      ready.find((id) => this.isOutput(id)) ??
      ready.find((id) => blocks(id).some((b) => this.isOutput(b))) ??
      ready.find((id) => blocks(id).some((b) => blocks(b).some((b2) => this.isOutput(b2)))) ??
      ready[0]
    );
  }

  complete(id: string): void {
    this.pending.delete(id);
    for (const blocked of this.blocking.get(id) ?? []) this.blockCount.set(blocked, (this.blockCount.get(blocked) ?? 1) - 1);
  }
}
