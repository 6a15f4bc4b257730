import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startStdioServer } from '../helpers/mcp-stdio.js';
import { REPO_ROOT, WORKFLOWS_DIR } from '../helpers/engine-harness.js';

/**
 * The conventions a person and a script rely on: what they asked to see (help, version) on
 * stdout with exit 0; every usage error on stderr, naming what was wrong, with exit 2; outputs
 * where --output (or COMFYWIRE_OUTPUT_DIR) says, and by default never in a random folder.
 */

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('comfywire CLI conventions', () => {
  it('--help and --version print on stdout and exit 0; so does a command\'s --help', async () => {
    const help = await runCli(['--help']);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^Usage: comfywire/);
    expect(help.stdout).toContain('generate');
    const version = await runCli(['--version']);
    expect([version.code, version.stdout, version.stderr]).toEqual([0, `${VERSION}\n`, '']);
    const sub = await runCli(['generate', '--help']);
    expect([sub.code, sub.stderr]).toEqual([0, '']);
    expect(sub.stdout).toMatch(/^Usage: comfywire generate/);
    expect(sub.stdout).toContain('--output');
  });

  it('an unknown command says so, lists the commands and exits 2', async () => {
    const r = await runCli(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown command 'bogus'");
    for (const name of ['serve', 'generate', 'tail', 'simulate', 'install', 'doctor']) expect(r.stderr).toContain(name);
    expect(r.stderr).not.toContain('too many arguments');
  });

  it.each([
    [['generate', 'x', '--bogus'], "unknown option '--bogus'"],
    [['generate'], "missing required argument 'prompt'"],
    [['generate', 'x', '--timeout', 'soon'], '--timeout'],
    [['serve', '--port', 'x'], '--port'],
    [['simulate', '--port', '70000'], '--port'],
    [['tail', '--nope'], "unknown option '--nope'"],
  ])('usage error %j exits 2 on stderr naming %s', async (args, named) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(named);
  });
});

describe('comfywire output folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-output-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const small = ['--simulate', '--steps', '1', '--width', '64', '--height', '64'];

  it('generate --output DIR (relative to the working folder) wins over COMFYWIRE_OUTPUT_DIR', async () => {
    mkdirSync(join(dir, 'work'));
    const r = await runCli(['generate', 'to a folder', ...small, '--output', 'renders'], {
      cwd: join(dir, 'work'),
      env: { COMFYWIRE_OUTPUT_DIR: join(dir, 'from-env'), HOME: dir },
    });
    expect(r.code).toBe(0);
    const path = r.stdout.trim();
    expect(path.startsWith(join(dir, 'work', 'renders') + '/')).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(existsSync(join(dir, 'from-env'))).toBe(false);
  });

  it('with no setting, a folder without shared/ stays untouched: outputs go to the user data folder', async () => {
    const home = join(dir, 'home');
    const work = join(dir, 'anywhere');
    mkdirSync(home);
    mkdirSync(work);
    const r = await runCli(['generate', 'no scatter', ...small], { cwd: work, env: { HOME: home, XDG_DATA_HOME: '' } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().startsWith(join(home, '.local', 'share', 'comfywire', 'outputs') + '/')).toBe(true);
    expect(readdirSync(work)).toEqual([]);
  });

  it('with no setting, a project folder with shared/ gets ./shared/outputs', async () => {
    mkdirSync(join(dir, 'shared'));
    const r = await runCli(['generate', 'in the project', ...small], { cwd: dir, env: { HOME: join(dir, 'nohome') } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().startsWith(join(dir, 'shared', 'outputs') + '/')).toBe(true);
    expect(existsSync(join(dir, 'nohome'))).toBe(false);
  });

  it('serve --output DIR: generate_image downloads there, over COMFYWIRE_OUTPUT_DIR', async () => {
    const server = await startStdioServer({
      comfyUrl: 'http://127.0.0.1:9',
      cwd: dir,
      outputDir: join(dir, 'from-env'),
      workflowsDir: WORKFLOWS_DIR,
      args: ['--simulate', '--output', join(dir, 'chosen')],
    });
    try {
      const r = await server.call('generate_image', { prompt: 'served', steps: 1, width: 64, height: 64 });
      expect(r.isError).toBeFalsy();
      const files = (r.structuredContent as { files: Array<{ path: string }> }).files;
      expect(files[0]!.path.startsWith(join(dir, 'chosen') + '/')).toBe(true);
      expect(existsSync(files[0]!.path)).toBe(true);
      expect(existsSync(join(dir, 'from-env'))).toBe(false);
      // The server keeps serving after the call.
      expect((await server.client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});
