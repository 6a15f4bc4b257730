import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'jsonc-parser';
import { clientTarget, type ClientName, type ClientTarget, type Locations, type Scope } from '../../src/install/clients.js';
import { applyChange } from '../../src/install/file-change.js';
import { entryPathOf, planInstall, type EntrySpec } from '../../src/install/install.js';
import { InstallRecords } from '../../src/install/install-records.js';
import { ClientConfigInvalidError } from '../../src/install/json-document.js';
import { planUninstall } from '../../src/install/uninstall.js';

const LAUNCH = { command: 'comfywire', args: ['serve'] };
const ALL: Array<[ClientName, Scope]> = [
  ['claude-code', 'local'], ['claude-code', 'project'], ['claude-code', 'user'],
  ['vscode', 'workspace'], ['vscode', 'user'], ['cursor', 'project'], ['cursor', 'user'],
];

describe('install / uninstall on real files, for every client and scope', () => {
  let dir: string;
  let loc: Locations;
  let records: InstallRecords;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-install-'));
    loc = { home: join(dir, 'home'), cwd: join(dir, 'project'), platform: 'linux', env: {} };
    mkdirSync(loc.home);
    mkdirSync(loc.cwd);
    records = new InstallRecords(join(dir, 'state'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The entry plus, for VS Code, a password input it refers to. */
  function spec(target: ClientTarget, env: Record<string, string> = { COMFYUI_URL: 'http://gpu:8188' }): EntrySpec {
    const secret = target.secretReference('COMFYUI_AUTH_TOKEN', 'token');
    return { entry: target.entry(LAUNCH, { ...env, COMFYUI_AUTH_TOKEN: secret.value }), inputs: secret.input ? [secret.input] : [] };
  }
  const install = async (target: ClientTarget, s = spec(target)) =>
    applyChange(await planInstall(target, s, await records.find(target.file, entryPathOf(target))), records);
  const uninstall = async (target: ClientTarget) => applyChange(await planUninstall(target, await records.find(target.file, entryPathOf(target))), records);
  const read = (file: string) => readFileSync(file, 'utf8');
  const mode = (file: string) => statSync(file).mode & 0o777;
  const entryOf = (target: ClientTarget) => entryPathOf(target).reduce<any>((v, k) => v?.[k], parse(read(target.file)));

  /** A config the person (or the client) already has: another server, comments, their own indentation. */
  function existing(target: ClientTarget): string {
    const other = '{ "command": "gh-mcp", "args": [] } // my GitHub server';
    const servers = `{\n      "github": ${other}\n    }`;
    if (target.serversPath.length === 3) {
      return `{\n  // Claude Code's own settings\n  "numStartups": 12,\n  "projects": {\n    ${JSON.stringify(loc.cwd)}: {\n    "allowedTools": [],\n    "mcpServers": ${servers}\n    }\n  }\n}\n`;
    }
    const inputs = target.client === 'vscode' ? ',\n  "inputs": [\n    // keys I was asked for\n    { "type": "promptString", "id": "gh-token", "password": true }\n  ]' : '';
    return `{\n  /* mine */\n  ${JSON.stringify(target.serversPath[0])}: {\n    "github": ${other}\n  }${inputs}\n}\n`;
  }

  describe.each(ALL)('%s (%s)', (client, scope) => {
    it('fresh: creates the file with the client\'s mode, and uninstall takes it (and its folders) away again', async () => {
      const target = clientTarget(client, scope, loc);
      const dirsBefore = readdirSync(dir, { recursive: true }).sort();
      const outcome = await install(target);
      expect(outcome.written).toBe(target.file);
      expect(entryOf(target)).toEqual(spec(target).entry);
      expect(mode(target.file)).toBe(target.createMode);
      if (client === 'vscode') expect(parse(read(target.file)).inputs).toEqual(spec(target).inputs);
      expect(JSON.stringify(parse(read(target.file)))).not.toContain('s3cret');
      await uninstall(target);
      expect(existsSync(target.file)).toBe(false);
      expect(readdirSync(dir, { recursive: true }).filter((p) => !String(p).startsWith('state')).sort()).toEqual(dirsBefore);
    });

    it('existing file with other servers and comments: they survive byte for byte, a second run changes nothing, uninstall restores the original', async () => {
      const target = clientTarget(client, scope, loc);
      mkdirSync(dirname(target.file), { recursive: true });
      const original = existing(target);
      writeFileSync(target.file, original);
      chmodSync(target.file, 0o640);
      await install(target);
      const first = read(target.file);
      expect(entryOf(target)).toEqual(spec(target).entry);
      expect(first.startsWith(original.slice(0, original.indexOf('"github"')))).toBe(true);
      for (const kept of ['// Claude Code\'s own settings', '/* mine */', '"github": { "command": "gh-mcp", "args": [] }, // my GitHub server', '// keys I was asked for']) {
        if (original.includes(kept)) expect(first).toContain(kept);
      }
      expect(mode(target.file)).toBe(0o640);

      const again = await planInstall(target, spec(target), await records.find(target.file, entryPathOf(target)));
      expect(again.changed).toBe(false);
      expect((await applyChange(again, records)).written).toBeUndefined();
      expect(read(target.file)).toBe(first);

      await uninstall(target);
      expect(read(target.file)).toBe(original);
      expect(mode(target.file)).toBe(0o640);
    });

    it('planning (what --dry-run shows) writes nothing', async () => {
      const target = clientTarget(client, scope, loc);
      const plan = await planInstall(target, spec(target), undefined);
      expect(plan.changed).toBe(true);
      expect(existsSync(target.file)).toBe(false);
      expect(existsSync(records.file)).toBe(false);
    });
  });

  it('a reinstall replaces the entry as a whole: an old token and old inputs are gone', async () => {
    const target = clientTarget('vscode', 'workspace', loc);
    mkdirSync(dirname(target.file));
    writeFileSync(target.file, JSON.stringify({
      inputs: [{ type: 'promptString', id: 'comfywire-comfyui-auth-basic', password: true }, { id: 'theirs' }],
      servers: { comfywire: { type: 'stdio', command: 'node', args: ['/old/dist/comfywire.mjs', 'serve'], env: { COMFYUI_AUTH_TOKEN: 'old-plain-token', COMFYWIRE_OUTPUT_DIR: '/old/out' } } },
    }, null, 2));
    await install(target);
    const doc = parse(read(target.file));
    expect(doc.servers.comfywire).toEqual(spec(target).entry);
    expect(read(target.file)).not.toMatch(/old-plain-token|\/old\//);
    expect(doc.inputs.map((i: { id: string }) => i.id)).toEqual(['theirs', 'comfywire-comfyui-auth-token']);
  });

  it('Claude Code local: an empty "mcpServers" Claude wrote stays; a "projects" entry install created goes', async () => {
    const target = clientTarget('claude-code', 'local', loc);
    const claudes = `{\n  "projects": {\n    ${JSON.stringify(loc.cwd)}: {\n      "allowedTools": [],\n      "mcpServers": {}\n    }\n  }\n}\n`;
    writeFileSync(target.file, claudes);
    await install(target);
    await uninstall(target);
    expect(read(target.file)).toBe(claudes);

    const bare = '{\n  "theme": "dark"\n}\n';
    writeFileSync(target.file, bare);
    await install(target);
    expect(parse(read(target.file)).projects[loc.cwd].mcpServers.comfywire).toBeDefined();
    await install(target, spec(target, { COMFYUI_URL: 'http://other:1' })); // a reinstall keeps the record of what was created
    await uninstall(target);
    expect(read(target.file)).toBe(bare);
  });

  it('without a record (another machine, an older comfywire) uninstall removes the entry and our inputs only', async () => {
    const target = clientTarget('cursor', 'project', loc);
    mkdirSync(dirname(target.file));
    writeFileSync(target.file, '{\n  "mcpServers": {\n    "comfywire": { "command": "x" }\n  }\n}\n');
    await uninstall(target);
    expect(read(target.file)).toBe('{\n  "mcpServers": {}\n}\n');
    expect((await planUninstall(target, undefined)).changed).toBe(false);
  });

  it('refuses a file that is not JSONC, naming file and line, and leaves it untouched', async () => {
    const target = clientTarget('vscode', 'workspace', loc);
    mkdirSync(join(loc.cwd, '.vscode'));
    const broken = '{\n  "servers": {\n    "a": { "command": "x" }\n  \n';
    writeFileSync(target.file, broken);
    const error = await planInstall(target, spec(target), undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientConfigInvalidError);
    expect((error as Error).message).toMatch(new RegExp(`${target.file} is not valid JSON \\(line \\d`));
    expect((error as ClientConfigInvalidError).hint).toContain('add this inside "servers": "comfywire":');
    expect(read(target.file)).toBe(broken);
  });

  it('refuses a servers key that is not an object', async () => {
    const target = clientTarget('cursor', 'user', loc);
    mkdirSync(join(loc.home, '.cursor'));
    writeFileSync(target.file, '{"mcpServers": []}');
    await expect(planInstall(target, spec(target), undefined)).rejects.toThrow(/"mcpServers" is not an object/);
  });
});
