/**
 * Python's heapq, step for step. ComfyUI's /queue returns the raw heap array as
 * `queue_pending`, so reproducing the exact sift algorithms reproduces its (unsorted) order.
 */
export type Less<T> = (a: T, b: T) => boolean;

function siftDown<T>(heap: T[], start: number, pos: number, less: Less<T>): void {
  const item = heap[pos] as T;
  while (pos > start) {
    const parentPos = (pos - 1) >> 1;
    const parent = heap[parentPos] as T;
    if (!less(item, parent)) break;
    heap[pos] = parent;
    pos = parentPos;
  }
  heap[pos] = item;
}

function siftUp<T>(heap: T[], pos: number, less: Less<T>): void {
  const end = heap.length;
  const start = pos;
  const item = heap[pos] as T;
  let child = 2 * pos + 1;
  while (child < end) {
    const right = child + 1;
    if (right < end && !less(heap[child] as T, heap[right] as T)) child = right;
    heap[pos] = heap[child] as T;
    pos = child;
    child = 2 * pos + 1;
  }
  heap[pos] = item;
  siftDown(heap, start, pos, less);
}

export function heapPush<T>(heap: T[], item: T, less: Less<T>): void {
  heap.push(item);
  siftDown(heap, 0, heap.length - 1, less);
}

export function heapPop<T>(heap: T[], less: Less<T>): T | undefined {
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return last;
  const top = heap[0] as T;
  heap[0] = last;
  siftUp(heap, 0, less);
  return top;
}

export function heapify<T>(heap: T[], less: Less<T>): void {
  for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) siftUp(heap, i, less);
}
