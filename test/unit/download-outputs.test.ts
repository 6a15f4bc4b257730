import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { downloadOutputs } from '../../src/jobs/download-outputs.js';
import { withFilesOnDisk } from '../../src/jobs/output-folder.js';
import { initialJobState, withOutput, type JobState } from '../../streams/job-state.js';

/** Filling in a job's outputs: found on disk, downloaded once, and a racing copy does not linger as `name (1)`. */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'comfywire-outputs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function finished(): JobState {
  const state = withOutput(initialJobState('p1', 0), '9', { images: [{ filename: 'a_00001_.png', subfolder: 'comfywire', type: 'output' }] });
  return { ...state, status: 'success', settled: true };
}

const target = (): string => path.join(dir, 'p1', 'comfywire', 'a_00001_.png');

test('a file already at its download path counts as downloaded; a symlink there does not', async () => {
  mkdirSync(path.dirname(target()), { recursive: true });
  writeFileSync(target(), 'png!');
  const found = await withFilesOnDisk(finished(), dir);
  expect(found.downloads).toEqual([
    { nodeId: '9', filename: 'a_00001_.png', subfolder: 'comfywire', type: 'output', path: target(), bytes: 4 },
  ]);
  rmSync(target());
  const outside = path.join(dir, 'outside.png');
  writeFileSync(outside, 'secret');
  symlinkSync(outside, target());
  expect((await withFilesOnDisk(finished(), dir)).downloads).toEqual([]);
});

test('preferExisting: when the name appeared during the download, that file is kept and ours dropped', async () => {
  const client = {
    download: async (_ref: unknown, dest: string) => {
      // Someone else placed the file meanwhile, so ours got the next free name.
      mkdirSync(path.join(dest, 'comfywire'), { recursive: true });
      writeFileSync(target(), 'theirs');
      const ours = path.join(dest, 'comfywire', 'a_00001_ (1).png');
      writeFileSync(ours, 'ours!!');
      return { path: ours, bytes: 6 };
    },
  };
  const got = await downloadOutputs(finished(), { client, outputDir: dir, preferExisting: true });
  expect(got.downloads.map((d) => d.path)).toEqual([target()]);
  expect(readFileSync(target(), 'utf8')).toBe('theirs');
  expect(existsSync(path.join(dir, 'p1', 'comfywire', 'a_00001_ (1).png'))).toBe(false);
  expect(got.downloadErrors).toEqual([]);
});

test('a failed download is recorded per file, not thrown; files already downloaded are not fetched again', async () => {
  let calls = 0;
  const client = {
    download: async () => {
      calls++;
      throw new Error('HTTP 404');
    },
  };
  const got = await downloadOutputs(finished(), { client, outputDir: dir });
  expect(got.downloadErrors).toEqual(['a_00001_.png: HTTP 404']);
  const done = { ...finished(), downloads: [{ nodeId: '9', filename: 'a_00001_.png', subfolder: 'comfywire', type: 'output', path: target(), bytes: 1 }] };
  await downloadOutputs(done, { client, outputDir: dir });
  expect(calls).toBe(1);
});
