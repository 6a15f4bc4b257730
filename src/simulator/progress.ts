/**
 * ComfyUI's per-prompt progress registry: every started node keeps `{value, max, state}`
 * and each start/update/finish re-sends the snapshot of all non-pending nodes.
 */
interface NodeProgress {
  value: number;
  max: number;
  state: 'running' | 'finished';
}

export class ProgressRegistry {
  private readonly nodes = new Map<string, NodeProgress>();

  constructor(private readonly promptId: string, private readonly emit: (data: unknown) => void) {}

  start(id: string): void {
    this.nodes.set(id, { value: 0, max: 1, state: 'running' });
    this.send();
  }

  update(id: string, value: number, max: number): void {
    this.nodes.set(id, { value, max, state: 'running' });
    this.send();
  }

  finish(id: string): void {
    const entry = this.nodes.get(id) ?? { value: 0, max: 1, state: 'running' };
    this.nodes.set(id, { ...entry, value: entry.max, state: 'finished' });
    this.send();
  }

  private send(): void {
    const nodes: Record<string, unknown> = {};
    for (const [id, p] of this.nodes) {
      nodes[id] = { value: p.value, max: p.max, state: p.state, node_id: id, prompt_id: this.promptId, display_node_id: id, parent_node_id: null, real_node_id: id };
    }
    this.emit({ prompt_id: this.promptId, nodes });
  }
}
