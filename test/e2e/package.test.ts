import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, childEnv } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/engine-harness.js';

/**
 * The package as a user gets it: `npm pack`, the tarball installed globally into a temporary
 * prefix, and the installed `comfywire` run from an empty folder. The install takes sharp (the
 * one run-time dependency) from npm's cache when it can, else from the registry; when neither is
 * reachable the tests that need the install are skipped with the reason.
 */

const run = promisify(execFile);
const npmCli = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** npm's own environment minus what `npm test` exported about this project (prefix, lifecycle). */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_(prefix|global|local_prefix|global_prefix|dry_run)$)/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

const npm = (args: string[], cwd: string, timeout = 120_000) => run(npmCli, args, { cwd, env: npmEnv(), timeout, maxBuffer: 16 * 1024 * 1024 });

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

const NETWORK = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network/i;

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does).`);
const work = mkdtempSync(join(tmpdir(), 'comfywire-package-'));
const packed = (JSON.parse((await npm(['pack', '--pack-destination', work, '--json'], REPO_ROOT)).stdout) as Packed[])[0]!;
const tarball = join(work, packed.filename);
const prefix = join(work, 'prefix');

/** Installs from npm's cache alone if it can, else letting npm reach the registry; why not, if neither. */
async function install(): Promise<string | undefined> {
  let reason = '';
  for (const mode of ['--offline', '--prefer-offline']) {
    try {
      await npm(['install', '--global', '--prefix', prefix, mode, '--no-audit', '--no-fund', '--loglevel=error', tarball], work);
      return undefined;
    } catch (err) {
      reason = String((err as { stderr?: string }).stderr || err).trim().split('\n').slice(0, 3).join(' ');
      if (!NETWORK.test(reason)) throw err;
    }
  }
  return reason;
}
const skipInstall = await install();
if (skipInstall) process.stderr.write(`package.test: skipping the installed-package tests: npm could not get sharp's packages (${skipInstall})\n`);
const whenInstalled = skipInstall ? it.skip : it;

const bin = process.platform === 'win32' ? join(prefix, 'comfywire.cmd') : join(prefix, 'bin', 'comfywire');
const installed = process.platform === 'win32' ? join(prefix, 'node_modules', 'comfywire') : join(prefix, 'lib', 'node_modules', 'comfywire');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function bytesUnder(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}

describe('the npm package', () => {
  let empty: string;
  let home: string;
  /** A user's environment: no comfywire settings, a fresh home, this Node first on PATH. */
  let env: Record<string, string>;
  beforeEach(() => {
    empty = mkdtempSync(join(work, 'empty-'));
    home = mkdtempSync(join(work, 'home-'));
    env = childEnv({ HOME: home, USERPROFILE: home, XDG_DATA_HOME: '', XDG_STATE_HOME: '', PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}` }) as Record<string, string>;
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds the bundle, the templates, LICENSE, .env.example and README: no source map, no compiled sources', () => {
    const paths = packed.files.map((f) => f.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['.env.example', 'LICENSE', 'README.md', 'dist/comfywire.mjs', 'package.json', 'workflows/sd15-txt2img.json']));
    // The bin and the chunks it loads on demand (scripts/bundle.mjs), each one the build made; no map, no tsc output.
    const chunks = readdirSync(join(REPO_ROOT, 'dist')).filter((n) => /^chunk-.*\.mjs$/.test(n)).map((n) => `dist/${n}`).sort();
    expect(chunks.length).toBeGreaterThan(0);
    expect(paths.filter((p) => p.startsWith('dist/'))).toEqual(['dist/comfywire.mjs', ...chunks].sort());
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; license: string; repository?: unknown };
    expect(Object.keys(manifest.dependencies)).toEqual(['sharp']);
    // The video decoder is optional: an install without it works, and says so (doctor, notes).
    expect(Object.keys((manifest as { optionalDependencies?: Record<string, string> }).optionalDependencies ?? {})).toEqual(['@ffmpeg-installer/ffmpeg']);
    expect([manifest.license, typeof manifest.repository]).toEqual(['MIT', 'object']);
    // A budget, not a measurement: the bundle is ~2.4 MB; the source map alone was 5.9 MB.
    expect(packed.unpackedSize).toBeLessThan(4 * 1024 * 1024);
    process.stderr.write(`package.test: ${packed.filename}: ${packed.files.length} files, packed ${packed.size} B, unpacked ${packed.unpackedSize} B\n`);
  });

  whenInstalled('installs with sharp as its only dependency tree, plus the optional ffmpeg', () => {
    const deps = readdirSync(join(installed, 'node_modules'));
    expect(deps).toContain('sharp');
    expect(deps).toContain('@ffmpeg-installer');
    for (const bundled of ['@modelcontextprotocol', 'commander', 'zod', 'rxjs', 'winston', 'undici', 'ws', 'pg', 'jsonc-parser', 'log-update']) expect(deps).not.toContain(bundled);
    process.stderr.write(`package.test: installed ${bytesUnder(installed)} B (node_modules: ${deps.join(', ')})\n`);
  });

  whenInstalled('comfywire --version from an empty folder prints the version on stdout', async () => {
    const r = await run(bin, ['--version'], { cwd: empty, env });
    expect([r.stdout, r.stderr]).toEqual([`${VERSION}\n`, '']);
  });

  whenInstalled('comfywire generate --simulate from an empty folder: a PNG in the user data folder, the folder untouched', async () => {
    const r = await run(bin, ['generate', 'a lighthouse at dusk', '--simulate', '--steps', '2', '--width', '64', '--height', '64'], { cwd: empty, env, timeout: 60_000 });
    const path = r.stdout.trim();
    const outputs = process.platform === 'linux' ? join(home, '.local', 'share', 'comfywire', 'outputs') : home;
    expect(path.startsWith(outputs)).toBe(true);
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    expect(readdirSync(empty)).toEqual([]);
  });

  whenInstalled("the installed comfywire finds the optional dependency's ffmpeg inside its own node_modules, and it runs", async () => {
    // PATH holds only Node: an ffmpeg installed on this machine would be preferred to the packaged one.
    const r = await run(bin, ['doctor', '--simulate', '--json'], { cwd: empty, env: { ...env, PATH: dirname(process.execPath) }, timeout: 60_000 }).catch((e: { stdout: string }) => e);
    const report = JSON.parse(r.stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
    const decoder = report.checks.find((c) => c.name === 'video decoder')!;
    expect(decoder.status).toBe('ok');
    expect(decoder.detail).toContain(join(installed, 'node_modules', '@ffmpeg-installer'));
    expect(decoder.detail).toContain('from @ffmpeg-installer/ffmpeg');
  });

  whenInstalled('comfywire serve from an empty folder answers tools/list over stdio', async () => {
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: bin, args: ['serve'], cwd: empty, env: { ...env, COMFYUI_URL: 'http://127.0.0.1:9' }, stderr: 'ignore' }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['generate_image', 'list_workflows', 'get_workflow_status']));
      const workflows = await client.callTool({ name: 'list_workflows', arguments: {} });
      expect(JSON.stringify(workflows.structuredContent)).toContain('sd15-txt2img');
    } finally {
      await client.close();
    }
  });

  whenInstalled('npx -y --package <tarball> comfywire --version runs from an empty folder', async () => {
    mkdirSync(join(empty, 'x'));
    const r = await run(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['-y', '--prefer-offline', '--package', tarball, 'comfywire', '--version'], {
      cwd: join(empty, 'x'),
      env: { ...npmEnv(), PATH: env['PATH']! },
      timeout: 120_000,
    });
    expect(r.stdout.trim().split('\n').pop()).toBe(VERSION);
  });
});
