/** Saving a template: names checked, never outside the folder, no overwrite unless asked, whole files only. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApiPrompt } from '../../src/comfy/types.js';
import { ConfigInvalidError, ParameterInvalidError, WorkflowExistsError } from '../../src/errors.js';
import { saveTemplate } from '../../src/workflows/save-template.js';
import { templateNameProblem } from '../../src/workflows/template-name.js';
import { loadTemplate } from '../../src/workflows/template-store.js';

const prompt = (text: string): ApiPrompt => ({
  '1': { class_type: 'CLIPTextEncode', inputs: { text, clip: ['2', 1] } },
  '2': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'x.safetensors' } },
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'comfywire-save-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ['', /The name is empty/],
  ['../escape', /contains a path separator/],
  ['sub/name', /contains a path separator/],
  ['sub\\name', /contains a path separator/],
  ['fox.json', /contains a dot; leave out "\.json"/],
  ['.hidden', /contains a dot/],
  ['-flag', /has characters a template name cannot have/],
  ['fox portrait', /has characters a template name cannot have/],
  ['füchse', /has characters a template name cannot have/],
  ['x'.repeat(65), /is 65 characters long/],
  ['CON', /reserved on Windows/],
  ['nul', /reserved on Windows/],
  ['lpt1', /reserved on Windows/],
])('name %j is refused: %s', (name, why) => {
  const problem = templateNameProblem(name);
  expect(problem).toMatch(why);
  expect(problem).toMatch(/e\.g\. "/);
  expect(problem!.length).toBeLessThan(300);
});

test.each(['fox', 'fox-portrait_2', 'A1', 'x'.repeat(64), 'console'])('name %j is accepted', (name) => {
  expect(templateNameProblem(name)).toBeUndefined();
});

test('a new template is written whole (pretty JSON), with no temp file left, and loads', async () => {
  const saved = await saveTemplate(dir, { name: 'fox', prompt: prompt('a fox'), overwrite: false });
  expect(saved).toEqual({ file: path.join(dir, 'fox.json'), replaced: false });
  expect(JSON.parse(readFileSync(saved.file, 'utf8'))).toEqual(prompt('a fox'));
  expect(readFileSync(saved.file, 'utf8')).toMatch(/^\{\n {2}"1": \{/);
  expect(readdirSync(dir)).toEqual(['fox.json']);
  expect((await loadTemplate(dir, 'fox')).parameters.map((p) => p.name)).toEqual(['checkpoint']);
});

test('an existing name is refused without overwrite (file untouched), replaced with it', async () => {
  await saveTemplate(dir, { name: 'fox', prompt: prompt('first'), overwrite: false });
  const again = saveTemplate(dir, { name: 'fox', prompt: prompt('second'), overwrite: false });
  await expect(again).rejects.toBeInstanceOf(WorkflowExistsError);
  await expect(again).rejects.toThrow(/already exists .*nothing was saved/);
  expect(JSON.parse(readFileSync(path.join(dir, 'fox.json'), 'utf8'))).toEqual(prompt('first'));
  expect(readdirSync(dir)).toEqual(['fox.json']);

  const replaced = await saveTemplate(dir, { name: 'fox', prompt: prompt('second'), overwrite: true });
  expect(replaced.replaced).toBe(true);
  expect(JSON.parse(readFileSync(path.join(dir, 'fox.json'), 'utf8'))).toEqual(prompt('second'));
  expect(readdirSync(dir)).toEqual(['fox.json']);
});

test('two uploads of one name at once: exactly one wins, the other is told it exists', async () => {
  const results = await Promise.allSettled(
    ['a', 'b', 'c', 'd'].map((t) => saveTemplate(dir, { name: 'race', prompt: prompt(t), overwrite: false })),
  );
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  for (const r of results.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(WorkflowExistsError);
  expect(readdirSync(dir)).toEqual(['race.json']);
});

test('the sidecar: written with the template, replaced with it, and a stale one removed when none is given', async () => {
  const meta = { description: 'A fox.', parameters: { subject: { node: '1', input: 'text' } } };
  const saved = await saveTemplate(dir, { name: 'fox', prompt: prompt('a fox'), meta, overwrite: false });
  expect(saved.metaFile).toBe(path.join(dir, 'fox.meta.json'));
  expect(JSON.parse(readFileSync(saved.metaFile!, 'utf8'))).toEqual(meta);
  const loaded = await loadTemplate(dir, 'fox');
  expect(loaded).toMatchObject({ description: 'A fox.' });
  expect(loaded.parameters.map((p) => p.name)).toEqual(['subject']);

  const plain = await saveTemplate(dir, { name: 'fox', prompt: prompt('a cat'), overwrite: true });
  expect(plain.removedMeta).toBe(path.join(dir, 'fox.meta.json'));
  expect(readdirSync(dir)).toEqual(['fox.json']);

  // A sidecar left behind without its template would describe another workflow: removed too.
  writeFileSync(path.join(dir, 'orphan.meta.json'), JSON.stringify({ parameters: { x: { node: '9', input: 'text' } } }));
  const orphan = await saveTemplate(dir, { name: 'orphan', prompt: prompt('new'), overwrite: false });
  expect(orphan.removedMeta).toBe(path.join(dir, 'orphan.meta.json'));
  await expect(loadTemplate(dir, 'orphan')).resolves.toMatchObject({ name: 'orphan' });
});

test('a description-only sidecar keeps the detected parameters', async () => {
  await saveTemplate(dir, { name: 'fox', prompt: prompt('a fox'), meta: { description: 'Just a description.' }, overwrite: false });
  const loaded = await loadTemplate(dir, 'fox');
  expect(loaded.description).toBe('Just a description.');
  expect(loaded.parameters.map((p) => p.name)).toEqual(['checkpoint']);
});

test('a bad name is refused before anything is written', async () => {
  await expect(saveTemplate(dir, { name: '../up', prompt: prompt('x'), overwrite: true })).rejects.toBeInstanceOf(ParameterInvalidError);
  expect(readdirSync(dir)).toEqual([]);
  expect(existsSync(path.join(dir, '..', 'up.json'))).toBe(false);
});

test('overwriting a symlinked template replaces the link inside the folder, never the file it points to', async () => {
  const outside = mkdtempSync(path.join(tmpdir(), 'comfywire-outside-'));
  try {
    writeFileSync(path.join(outside, 'target.json'), '{"keep": true}');
    symlinkSync(path.join(outside, 'target.json'), path.join(dir, 'linked.json'));
    await saveTemplate(dir, { name: 'linked', prompt: prompt('x'), overwrite: true });
    expect(readFileSync(path.join(outside, 'target.json'), 'utf8')).toBe('{"keep": true}');
    expect(JSON.parse(readFileSync(path.join(dir, 'linked.json'), 'utf8'))).toEqual(prompt('x'));
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('a folder that cannot be made or written: a configuration error that names the variable', async () => {
  // A file where the folder should be fails for root too (a read-only folder would not).
  writeFileSync(path.join(dir, 'blocker'), '');
  const attempt = saveTemplate(path.join(dir, 'blocker', 'workflows'), { name: 'fox', prompt: prompt('x'), overwrite: false });
  await expect(attempt).rejects.toBeInstanceOf(ConfigInvalidError);
  await expect(attempt).rejects.toThrow(/cannot be written \(ENOTDIR\); nothing was saved/);
  await expect(attempt).rejects.toMatchObject({ hint: expect.stringMatching(/COMFYWIRE_WORKFLOWS_DIR/) });
});
