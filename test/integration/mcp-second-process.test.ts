import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobState } from '../../streams/job-state.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';
import { eventually } from '../helpers/wait.js';

/**
 * Outputs and jobs outlive the comfywire process that made them: a second engine and server on
 * the same simulator and output folder (a restarted comfywire) serves the first one's jobs and
 * files, and the shipped template's `comfywire/` subfolder round-trips through resource links.
 */

let first: Harness;
let second: Harness;
beforeAll(async () => {
  first = await startHarness({ stepDelayMs: 5 });
  second = await startHarness({ shareWith: first });
});
afterAll(async () => {
  await second.close();
  await first.close();
});

interface FileOut {
  path: string;
  filename: string;
  uri: string;
  mime: string;
  bytes: number;
}
interface GenerateOut {
  prompt_id: string;
  files: FileOut[];
}
interface StatusOut {
  job: { status: string; ours: boolean; files: FileOut[]; missing_files: Array<{ filename: string; reason: string; url?: string }> };
}

async function render(h: Harness): Promise<{ out: GenerateOut; links: Array<{ uri: string; mimeType?: string }> }> {
  const r = await h.call('generate_image', { prompt: 'a red fox', steps: 2, width: 64, height: 64 });
  expect(r.isError).toBeFalsy();
  const links = r.content.filter((c): c is { type: 'resource_link'; uri: string; name: string; mimeType?: string } => c.type === 'resource_link');
  return { out: r.structuredContent as unknown as GenerateOut, links };
}

/** A prompt posted straight to ComfyUI by someone else, saving into a subfolder; resolves with its id once it is in history. */
async function foreignRender(prefix: string): Promise<string> {
  const res = await fetch(`${first.sim.url}/prompt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
      },
    }),
  });
  const id = ((await res.json()) as { prompt_id: string }).prompt_id;
  await eventually(async () => {
    const h = (await (await fetch(`${first.sim.url}/history/${id}`)).json()) as Record<string, unknown>;
    return id in h ? true : undefined;
  });
  return id;
}

function png(contents: Array<{ mimeType?: string }>): Buffer {
  const c = contents[0] as { blob: string; mimeType: string };
  expect(c.mimeType).toBe('image/png');
  const data = Buffer.from(c.blob, 'base64');
  expect(data.subarray(1, 4).toString('latin1')).toBe('PNG');
  return data;
}

function status(r: Awaited<ReturnType<Harness['call']>>): StatusOut['job'] {
  expect(r.isError).toBeFalsy();
  return (r.structuredContent as unknown as StatusOut).job;
}

test('the shipped template saves into comfywire/: its resource links round-trip through resources/read, here and after a restart', async () => {
  const { out, links } = await render(first);
  const file = out.files[0]!;
  expect(path.relative(first.outputDir, file.path)).toBe(path.join(out.prompt_id, 'comfywire', file.filename));
  expect(links.map((l) => l.uri)).toEqual(out.files.map((f) => f.uri));
  for (const h of [first, second]) {
    const read = await h.client.readResource({ uri: links[0]!.uri });
    expect(png(read.contents).equals(readFileSync(file.path))).toBe(true);
  }
});

test('get_workflow_status in a second process: files on disk count as downloaded, with their paths and sizes', async () => {
  const { out } = await render(first);
  const file = out.files[0]!;
  const job = status(await second.call('get_workflow_status', { prompt_id: out.prompt_id }));
  expect(job).toMatchObject({ status: 'success', ours: false, missing_files: [] });
  expect(job.files).toEqual([expect.objectContaining({ path: file.path, bytes: statSync(file.path).size, uri: file.uri, filename: file.filename })]);
  expect(textOf(await second.call('get_workflow_status', { prompt_id: out.prompt_id }))).not.toMatch(/not downloaded|not on disk/);
});

test('get_workflow_status in a second process downloads outputs missing from the output folder, subfolder kept', async () => {
  const { out } = await render(first);
  const file = out.files[0]!;
  const original = readFileSync(file.path);
  rmSync(file.path);

  const kept = status(await second.call('get_workflow_status', { prompt_id: out.prompt_id, download: false }));
  expect(kept.files).toEqual([]);
  expect(existsSync(file.path)).toBe(false);
  expect(kept.missing_files).toEqual([expect.objectContaining({ filename: file.filename, url: expect.stringContaining('/view?') })]);
  expect(kept.missing_files[0]!.reason).toMatch(/comfywire\/sd15_\d+_\.png.*download/);

  const job = status(await second.call('get_workflow_status', { prompt_id: out.prompt_id }));
  expect(job.missing_files).toEqual([]);
  expect(job.files).toEqual([expect.objectContaining({ path: file.path, uri: file.uri })]);
  expect(readFileSync(file.path).equals(original)).toBe(true);

  // Asking again finds it on disk: no second copy.
  const again = status(await second.call('get_workflow_status', { prompt_id: out.prompt_id }));
  expect(again.files.map((f) => f.path)).toEqual([file.path]);
  expect(existsSync(file.path.replace(/\.png$/, ' (1).png'))).toBe(false);
});

test('a prompt another client posted: get_workflow_status fetches its outputs, resources serve them', async () => {
  const id = await foreignRender('elsewhere/deep/fox');
  const job = status(await second.call('get_workflow_status', { prompt_id: id }));
  expect(job.files).toHaveLength(1);
  const file = job.files[0]!;
  expect(path.relative(second.outputDir, file.path)).toBe(path.join(id, 'elsewhere', 'deep', file.filename));
  expect(file.uri).toBe(`comfywire://outputs/${id}/elsewhere%2Fdeep%2F${file.filename}`);
  png((await first.client.readResource({ uri: file.uri })).contents);
});

test('comfywire://jobs/{id} answers for a job of another process (from ComfyUI history, files from disk)', async () => {
  const { out } = await render(first);
  const read = await second.client.readResource({ uri: `comfywire://jobs/${out.prompt_id}` });
  const state = JSON.parse((read.contents[0] as { text: string }).text) as JobState;
  expect(state).toMatchObject({ promptId: out.prompt_id, status: 'success', settled: true });
  expect(state.downloads.map((d) => d.path)).toEqual(out.files.map((f) => f.path));

  const foreign = await foreignRender('other');
  const foreignRead = await second.client.readResource({ uri: `comfywire://jobs/${foreign}` });
  expect(JSON.parse((foreignRead.contents[0] as { text: string }).text)).toMatchObject({ promptId: foreign, status: 'success' });
});

test('comfywire://jobs/{id} for a prompt nobody knows is a not-found error that says what to do', async () => {
  await expect(second.client.readResource({ uri: 'comfywire://jobs/00000000-0000-0000-0000-000000000000' })).rejects.toThrow(
    /not found.*ComfyUI.*(history|queue).*get_workflow_status/is,
  );
  // ComfyUI forgot it (restart, history cleared) but its files are still here: say where.
  const gone = 'ffffffff-0000-0000-0000-000000000000';
  mkdirSync(path.join(second.outputDir, gone, 'comfywire'), { recursive: true });
  writeFileSync(path.join(second.outputDir, gone, 'comfywire', 'old_00001_.png'), 'x');
  await expect(second.client.readResource({ uri: `comfywire://jobs/${gone}` })).rejects.toThrow(
    new RegExp(`not found[\\s\\S]*${gone}[\\s\\S]*comfywire://outputs/${gone}/comfywire%2Fold_00001_\\.png`),
  );
  const r = await second.call('get_workflow_status', { prompt_id: gone });
  expect(r.isError).toBe(true);
  expect(textOf(r)).toContain(path.join(second.outputDir, gone, 'comfywire', 'old_00001_.png'));
});

test('resources/list and completion offer files under the output folder, whichever process downloaded them', async () => {
  const { out } = await render(first);
  const uri = out.files[0]!.uri;
  const { resources } = await second.client.listResources();
  expect(resources).toContainEqual(expect.objectContaining({ uri, mimeType: 'image/png', size: out.files[0]!.bytes }));
  expect(resources.some((r) => r.uri.includes('.part'))).toBe(false);

  const ref = { type: 'ref/resource' as const, uri: 'comfywire://outputs/{prompt_id}/{file}' };
  const ids = await second.client.complete({ ref, argument: { name: 'prompt_id', value: out.prompt_id.slice(0, 6) } });
  expect(ids.completion.values).toContain(out.prompt_id);
  const files = await second.client.complete({ ref, argument: { name: 'file', value: 'comfywire/' }, context: { arguments: { prompt_id: out.prompt_id } } });
  expect(files.completion.values).toEqual([`comfywire/${out.files[0]!.filename}`]);
});

test('a link in the old form (file name only) still finds a file in a subfolder', async () => {
  const { out } = await render(first);
  const file = out.files[0]!;
  png((await second.client.readResource({ uri: `comfywire://outputs/${out.prompt_id}/${file.filename}` })).contents);
});

test('output reads stay inside the output folder: no .., no absolute paths, no symlink out of it', async () => {
  const { out } = await render(first);
  const id = out.prompt_id;
  const secret = path.join(first.outputDir, '..', `comfywire-secret2-${process.pid}.txt`);
  writeFileSync(secret, 'secret');
  const outside = path.join(first.outputDir, '..', `comfywire-outside-${process.pid}`);
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(outside, 'x.txt'), 'secret');
  symlinkSync(secret, path.join(first.outputDir, id, 'comfywire', 'link.txt'));
  symlinkSync(outside, path.join(first.outputDir, id, 'dirlink'));
  try {
    const name = path.basename(secret);
    for (const file of [
      `comfywire%2F..%2F..%2F..%2F${name}`,
      `..%2F..%2F${name}`,
      `%2F${encodeURIComponent(secret.slice(1))}`,
      `comfywire%5C..%5C..%5C..%5C${name}`,
      'comfywire%2Flink.txt',
      'link.txt',
      'dirlink%2Fx.txt',
      'comfywire%2F.%2F',
      'comfywire',
      'comfywire%2Fmissing.png',
    ]) {
      await expect(second.client.readResource({ uri: `comfywire://outputs/${id}/${file}` })).rejects.toThrow(/not found/i);
    }
  } finally {
    rmSync(secret, { force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('comfywire://jobs/{id} with ComfyUI down: an error that says so, not "not found"', async () => {
  const down = await startHarness({ comfyDown: true });
  try {
    await expect(down.client.readResource({ uri: 'comfywire://jobs/some-prompt' })).rejects.toThrow(/asking ComfyUI about it failed.*(reach|refused|unreachable)/is);
  } finally {
    await down.close();
  }
});
