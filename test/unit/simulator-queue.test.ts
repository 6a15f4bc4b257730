import { PromptQueue, itemArray, type QueueItem } from '../../src/simulator/prompt-queue.js';
import { heapPop, heapPush } from '../../src/simulator/heap.js';
import { packPreviewWithMetadata, packText } from '../../src/simulator/binary-frames.js';

const item = (number: number, promptId: string): QueueItem => ({ number, promptId, prompt: {}, extraData: {}, outputs: [] });

describe('simulator prompt queue', () => {
  it('keeps pending as a raw min-heap array, like Python heapq', () => {
    const q = new PromptQueue(() => undefined);
    for (const n of [5, 3, 8, 1, 9, 2]) q.put(item(n, `p${n}`));
    // heapq.heappush of 5,3,8,1,9,2 gives [1, 3, 2, 5, 9, 8]
    expect(q.pending.map((i) => i.number)).toEqual([1, 3, 2, 5, 9, 8]);
    expect(q.take()?.number).toBe(1);
    expect(q.pending.map((i) => i.number)).toEqual([2, 3, 8, 5, 9]);
  });

  it('gives front prompts the negated counter and breaks ties by prompt_id', () => {
    const q = new PromptQueue(() => undefined);
    expect([q.nextNumber(false), q.nextNumber(false), q.nextNumber(true)]).toEqual([0, 1, -2]);
    const heap: QueueItem[] = [];
    const less = (a: QueueItem, b: QueueItem): boolean => a.number < b.number || (a.number === b.number && a.promptId < b.promptId);
    heapPush(heap, item(1, 'b'), less);
    heapPush(heap, item(1, 'a'), less);
    expect(heapPop(heap, less)?.promptId).toBe('a');
  });

  it('notifies on every change and deletes by id, ignoring unknown ids', () => {
    let changes = 0;
    const q = new PromptQueue(() => changes++);
    q.put(item(0, 'x'));
    q.put(item(1, 'y'));
    q.delete('nope');
    q.delete('x');
    expect(changes).toBe(3);
    expect(q.pending.map(itemArray).map((a) => a[1])).toEqual(['y']);
  });

  it('notifies twice when the only pending item is deleted (ComfyUI wipes the queue, then notifies again)', () => {
    let changes = 0;
    const q = new PromptQueue(() => changes++);
    q.put(item(0, 'x'));
    q.put(item(1, 'y'));
    expect(q.take()?.promptId).toBe('x');
    changes = 0;
    q.delete('y');
    expect(changes).toBe(2);
    expect(q.pending).toEqual([]);
    expect(q.running?.promptId).toBe('x');
  });
});

describe('simulator binary frames', () => {
  it('packs TEXT as type 3 with a length-prefixed node id (recorded head_hex)', () => {
    expect(packText('1', 'harness step 3/6').toString('hex')).toBe('0000000300000001316861726e657373207374657020332f36');
  });

  it('packs type 4 metadata with Python json spacing (166 bytes for a 36-char prompt id)', () => {
    const meta = { node_id: '1', prompt_id: '7b6beb8c-2eec-44c2-9ba1-379d759cc433', display_node_id: '1', parent_node_id: null, real_node_id: '1', image_type: 'image/jpeg' };
    const frame = packPreviewWithMetadata(meta, Buffer.from([0xff, 0xd8]));
    expect(frame.subarray(0, 16).toString('hex').slice(0, 16)).toBe('00000004000000a6');
  });
});
