import { expect, it } from '@jest/globals';
import { lateBound } from '../../src/late-bound.js';

/** The stdio server's stand-in for its engine: reads before the engine exists, and after. */

class Counter {
  n = 0;
  bump(): number {
    return ++this.n;
  }
}

it('serves `before` values until bound, says a bug is a bug, then forwards with `this` kept and one bound function per method', () => {
  const late = lateBound<Counter & { label: string }>('the counter', { label: 'early' });
  expect(late.value.label).toBe('early');
  expect(() => late.value.bump()).toThrow('internal: the counter was used before it was made');
  const real = Object.assign(new Counter(), { label: 'real' });
  late.bind(real);
  const bump = late.value.bump;
  expect(bump()).toBe(1);
  expect(late.value.bump()).toBe(2);
  expect(late.value.bump).toBe(bump);
  expect(late.value.label).toBe('real');
  expect(late.value.n).toBe(2);
  expect('bump' in late.value).toBe(true);
});
