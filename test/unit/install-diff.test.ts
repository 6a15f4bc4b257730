import { unifiedDiff } from '../../src/install/unified-diff.js';

const names = { from: 'a.json', to: 'a.json' };
const lines = (n: number, f = (i: number) => `line ${i}`) => Array.from({ length: n }, (_, i) => f(i + 1)).join('\n') + '\n';

describe('install: the --dry-run diff', () => {
  it('nothing for equal texts', () => {
    expect(unifiedDiff('x\n', 'x\n', names)).toBe('');
  });

  it('a new file and a removed one are diffed against /dev/null', () => {
    expect(unifiedDiff(undefined, '{\n}\n', names)).toBe('--- /dev/null\n+++ a.json\n@@ -0,0 +1,2 @@\n+{\n+}\n');
    expect(unifiedDiff('{\n}\n', undefined, names)).toBe('--- a.json\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-{\n-}\n');
  });

  it('three lines of context, removals before additions, far-apart changes in separate hunks', () => {
    const before = lines(20);
    const after = lines(20, (i) => (i === 5 ? 'five' : i === 16 ? 'sixteen' : `line ${i}`));
    expect(unifiedDiff(before, after, names)).toBe(
      '--- a.json\n+++ a.json\n' +
        '@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+five\n line 6\n line 7\n line 8\n' +
        '@@ -13,7 +13,7 @@\n line 13\n line 14\n line 15\n-line 16\n+sixteen\n line 17\n line 18\n line 19\n',
    );
  });

  it('an insertion in a long file shows only its neighbourhood', () => {
    const before = lines(5000);
    const after = before.replace('line 2500\n', 'line 2500\nnew\n');
    expect(unifiedDiff(before, after, names)).toBe('--- a.json\n+++ a.json\n@@ -2498,6 +2498,7 @@\n line 2498\n line 2499\n line 2500\n+new\n line 2501\n line 2502\n line 2503\n');
  });
});
