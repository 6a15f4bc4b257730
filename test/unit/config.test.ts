import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { authHeaders, defaultDataDir, defaultOutputDir, defaultStateDir, ENV_VARIABLES, loadConfig } from '../../src/config.js';
import { ConfigInvalidError } from '../../src/errors.js';

describe('configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has working defaults and is frozen', () => {
    const c = loadConfig({}, { cwd: dir });
    expect(c.comfyUrl).toBe('http://127.0.0.1:8188');
    expect(c.outputDir).toBe(join(defaultDataDir({}), 'outputs'));
    expect(c.auth).toEqual({ kind: 'none' });
    expect(c.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => ((c as { comfyUrl: string }).comfyUrl = 'x')).toThrow();
  });

  it('outputs: COMFYWIRE_OUTPUT_DIR (relative to cwd), else ./shared/outputs in a folder with shared/, else the user data folder', () => {
    expect(loadConfig({ COMFYWIRE_OUTPUT_DIR: 'renders' }, { cwd: dir }).outputDir).toBe(join(dir, 'renders'));
    const data = join(dir, 'data');
    expect(loadConfig({ XDG_DATA_HOME: data }, { cwd: dir }).outputDir).toBe(
      process.platform === 'linux' ? join(data, 'comfywire', 'outputs') : join(defaultDataDir({}), 'outputs'),
    );
    writeFileSync(join(dir, 'shared'), 'a file, not a folder');
    expect(loadConfig({}, { cwd: dir }).outputDir).toBe(join(defaultDataDir({}), 'outputs'));
    rmSync(join(dir, 'shared'));
    mkdirSync(join(dir, 'shared'));
    expect(loadConfig({}, { cwd: dir }).outputDir).toBe(join(dir, 'shared', 'outputs'));
    expect(loadConfig({ COMFYWIRE_OUTPUT_DIR: ' ' }, { cwd: dir }).outputDir).toBe(join(dir, 'shared', 'outputs'));
  });

  it('outputs: never a shared/ folder in the home folder or at a filesystem root', () => {
    expect(defaultOutputDir(homedir(), {})).toBe(join(defaultDataDir({}), 'outputs'));
    expect(defaultOutputDir('/', {})).toBe(join(defaultDataDir({}), 'outputs'));
    expect(defaultDataDir({ XDG_DATA_HOME: '/x/data' }, 'linux')).toBe('/x/data/comfywire');
    expect(defaultDataDir({ XDG_DATA_HOME: 'relative' }, 'linux')).toBe(join(homedir(), '.local', 'share', 'comfywire'));
    expect(defaultDataDir({}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'comfywire'));
    expect(defaultDataDir({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32')).toBe(join('C:\\Users\\me\\AppData\\Local', 'comfywire'));
  });

  it('uses ./workflows when the folder exists, else the shipped templates', () => {
    expect(loadConfig({}, { cwd: dir }).workflowsDir).toMatch(/workflows$/);
    expect(loadConfig({}, { cwd: dir }).workflowsDir).not.toBe(join(dir, 'workflows'));
    mkdirSync(join(dir, 'workflows'));
    expect(loadConfig({}, { cwd: dir }).workflowsDir).toBe(join(dir, 'workflows'));
  });

  it('reads .env, and the real environment wins over it', () => {
    writeFileSync(join(dir, '.env'), 'COMFYUI_URL=http://gpu-box:8188/\nCOMFYWIRE_STEP=1\nCOMFYWIRE_TOOL_WAIT_S=20\n');
    const fromFile = loadConfig({}, { cwd: dir });
    expect(fromFile.comfyUrl).toBe('http://gpu-box:8188');
    expect(fromFile.toolWaitS).toBe(20);
    expect(loadConfig({ COMFYUI_URL: 'https://other:1' }, { cwd: dir }).comfyUrl).toBe('https://other:1');
  });

  it('an invalid value names the variable and the fix', () => {
    const err = (() => {
      try {
        loadConfig({ COMFYUI_URL: 'ftp://x', COMFYWIRE_REQUEST_TIMEOUT_MS: '-5' }, { cwd: dir });
      } catch (e) {
        return e;
      }
      return undefined;
    })() as ConfigInvalidError;
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect(err.message).toContain('COMFYUI_URL="ftp://x"');
    expect(err.message).toContain('http:// or https://');
    expect(err.message).toContain('COMFYWIRE_REQUEST_TIMEOUT_MS');
    expect(err.hint).toContain('.env.example');
  });

  it('auth: bearer, basic, custom header (name and value together)', () => {
    expect(authHeaders(loadConfig({ COMFYUI_AUTH_TOKEN: 't0k' }, { cwd: dir }).auth)).toEqual({ authorization: 'Bearer t0k' });
    expect(authHeaders(loadConfig({ COMFYUI_AUTH_BASIC: 'me:p:w' }, { cwd: dir }).auth)).toEqual({
      authorization: `Basic ${Buffer.from('me:p:w').toString('base64')}`,
    });
    expect(authHeaders(loadConfig({ COMFYUI_AUTH_HEADER_NAME: 'X-Api-Key', COMFYUI_AUTH_HEADER_VALUE: 'v' }, { cwd: dir }).auth)).toEqual({
      'x-api-key': 'v',
    });
    expect(() => loadConfig({ COMFYUI_AUTH_HEADER_NAME: 'X-Api-Key' }, { cwd: dir })).toThrow(/COMFYUI_AUTH_HEADER_VALUE/);
    expect(() => loadConfig({ COMFYUI_AUTH_BASIC: 'nocolon' }, { cwd: dir })).toThrow(/user:password/);
  });

  it('ffmpeg: unset looks on PATH (undefined), a path is resolved against cwd, `off` turns video decoding off', () => {
    expect(loadConfig({}, { cwd: dir }).ffmpeg).toBeUndefined();
    expect(loadConfig({ COMFYWIRE_FFMPEG: 'bin/ffmpeg' }, { cwd: dir }).ffmpeg).toBe(join(dir, 'bin', 'ffmpeg'));
    expect(loadConfig({ COMFYWIRE_FFMPEG: 'off' }, { cwd: dir }).ffmpeg).toBe('off');
  });

  it('upload folders are split like PATH and resolved', () => {
    const c = loadConfig({ COMFYWIRE_UPLOAD_DIRS: `imgs${process.platform === 'win32' ? ';' : ':'}/abs/pics` }, { cwd: dir });
    expect(c.uploadDirs).toEqual([join(dir, 'imgs'), '/abs/pics']);
  });
});

describe('configuration: safety limits and the call log', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has documented defaults', () => {
    const c = loadConfig({ XDG_STATE_HOME: join(dir, 'state') }, { cwd: dir });
    expect(c.limits).toEqual({
      promptChars: 4000,
      generateRate: { perMinute: 10, burst: 5 },
      readRate: { perMinute: 600, burst: 60 },
      maxActiveJobs: 20,
      uploadMaxBytes: 25 * 1024 * 1024,
      downloadMaxBytes: 512 * 1024 * 1024,
      downloadTimeoutMs: 600_000,
      downloadMinBytesPerS: 16 * 1024,
      httpMaxSessions: 32,
      httpSessionIdleMs: 1_800_000,
    });
    expect(Object.isFrozen(c.limits)).toBe(true);
    expect(c.databaseUrl).toBeUndefined();
    if (process.platform === 'linux') {
      expect(c.stateDir).toBe(join(dir, 'state', 'comfywire'));
      expect(c.callLog).toEqual({ file: join(dir, 'state', 'comfywire', 'calls.jsonl'), maxBytes: 10 * 1024 * 1024, maxFiles: 5 });
    }
  });

  it('the state folder follows each platform, and a relative XDG_STATE_HOME is ignored', () => {
    expect(defaultStateDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32')).toContain('comfywire');
    expect(defaultStateDir({}, 'darwin')).toMatch(/Library.Application Support.comfywire$/);
    expect(defaultStateDir({ XDG_STATE_HOME: '/x/state' }, 'linux')).toBe(join('/x/state', 'comfywire'));
    expect(defaultStateDir({ XDG_STATE_HOME: 'rel' }, 'linux')).toMatch(/\.local.state.comfywire$/);
  });

  it('the call log can be moved or turned off; DATABASE_URL must be a PostgreSQL URL', () => {
    expect(loadConfig({ COMFYWIRE_CALL_LOG: 'off' }, { cwd: dir }).callLog).toBeUndefined();
    expect(loadConfig({ COMFYWIRE_CALL_LOG: 'logs/c.jsonl' }, { cwd: dir }).callLog?.file).toBe(join(dir, 'logs', 'c.jsonl'));
    expect(loadConfig({ COMFYWIRE_STATE_DIR: 'st' }, { cwd: dir }).stateDir).toBe(join(dir, 'st'));
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h/db' }, { cwd: dir }).databaseUrl).toBe('postgres://u:p@h/db');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://h/db' }, { cwd: dir })).toThrow(/DATABASE_URL.*PostgreSQL URL/s);
    expect(() => loadConfig({ COMFYWIRE_MAX_PROMPT_CHARS: '0' }, { cwd: dir })).toThrow(/COMFYWIRE_MAX_PROMPT_CHARS/);
  });
});

describe('configuration: credentials', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a reference an MCP client left unexpanded (no such variable) is refused, naming what to set', () => {
    for (const [name, value, missing] of [
      ['COMFYUI_AUTH_TOKEN', '${COMFYUI_AUTH_TOKEN}', 'COMFYUI_AUTH_TOKEN'],
      ['COMFYUI_AUTH_BASIC', '${env:MY_BASIC}', 'MY_BASIC'],
      ['COMFYUI_URL', '${COMFY_HOST:-}', 'COMFY_HOST'],
    ] as const) {
      const error = (() => { try { loadConfig({ [name]: value }, { cwd: dir }); } catch (e) { return e as ConfigInvalidError; } })();
      expect(error).toBeInstanceOf(ConfigInvalidError);
      expect(error?.message).toContain(`${name} is the unexpanded reference ${value}`);
      expect(error?.hint).toContain(`Set ${missing} in the environment`);
    }
    // A value that merely contains such text is a value.
    expect(loadConfig({ COMFYUI_AUTH_TOKEN: 'abc${X}' }, { cwd: dir }).auth).toEqual({ kind: 'bearer', token: 'abc${X}' });
  });

  it('userinfo in COMFYUI_URL becomes basic auth and leaves the URL', () => {
    const c = loadConfig({ COMFYUI_URL: 'http://alice:s3cr%40t-pw@gpu-box:8188/' }, { cwd: dir });
    expect(c.comfyUrl).toBe('http://gpu-box:8188');
    expect(c.auth).toEqual({ kind: 'basic', user: 'alice', password: 's3cr@t-pw' });
    expect(authHeaders(c.auth)).toEqual({ authorization: `Basic ${Buffer.from('alice:s3cr@t-pw').toString('base64')}` });
    // A user without a password is a user with an empty one (some proxies take a key as the user name).
    expect(loadConfig({ COMFYUI_URL: 'https://key123@proxy.example' }, { cwd: dir }).auth).toEqual({ kind: 'basic', user: 'key123', password: '' });
    expect(loadConfig({ COMFYUI_URL: 'https://key123@proxy.example' }, { cwd: dir }).comfyUrl).toBe('https://proxy.example');
  });

  it('userinfo in COMFYUI_URL together with another auth style is refused with a hint, the password unprinted', () => {
    for (const other of [{ COMFYUI_AUTH_TOKEN: 'tok-123456' }, { COMFYUI_AUTH_BASIC: 'bob:pw-123456' }, { COMFYUI_AUTH_HEADER_NAME: 'X-Key', COMFYUI_AUTH_HEADER_VALUE: 'v-123456' }]) {
      let err: unknown;
      try {
        loadConfig({ COMFYUI_URL: 'http://alice:PW-in-url-42@gpu-box:8188', ...other }, { cwd: dir });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigInvalidError);
      const text = `${(err as ConfigInvalidError).message}\n${(err as ConfigInvalidError).hint}`;
      expect(text).toMatch(/COMFYUI_URL.*credentials.*COMFYUI_AUTH_/s);
      expect(text).not.toContain('PW-in-url-42');
      for (const v of Object.values(other)) if (v.length > 5 && v !== 'X-Key') expect(text).not.toContain(v);
    }
  });

  it('an invalid value is quoted without its secrets, and briefly', () => {
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ COMFYUI_URL: 'ftp://alice:ftp-secret-1@host' }, ['ftp-secret-1']],
      [{ DATABASE_URL: 'mysql://db:db-secret-2@h/x' }, ['db-secret-2']],
      [{ COMFYUI_AUTH_BASIC: 'no-colon-secret-3' }, ['no-colon-secret-3']],
      [{ COMFYUI_AUTH_HEADER_VALUE: 'header-secret-4' }, ['header-secret-4']],
      [{ COMFYUI_AUTH_TOKEN: 'token-secret-5', COMFYWIRE_HTTP_TOKEN: 'http-secret-6', COMFYWIRE_HTTP_PORT: 'x' }, ['token-secret-5', 'http-secret-6']],
      [{ COMFYUI_URL: `http://host/${'x'.repeat(5000)}`, COMFYWIRE_HTTP_PORT: 'y'.repeat(5000) }, []],
    ];
    for (const [env, secrets] of cases) {
      let err: ConfigInvalidError | undefined;
      try {
        loadConfig(env, { cwd: dir });
      } catch (e) {
        err = e as ConfigInvalidError;
      }
      expect(err).toBeInstanceOf(ConfigInvalidError);
      for (const s of secrets) expect(err!.message).not.toContain(s);
      expect(err!.message.length).toBeLessThan(1000);
    }
    let err: ConfigInvalidError | undefined;
    try {
      loadConfig({ COMFYUI_URL: 'ftp://alice:ftp-secret-1@host' }, { cwd: dir });
    } catch (e) {
      err = e as ConfigInvalidError;
    }
    expect(err!.message).toContain('COMFYUI_URL="ftp://alice:***@host"');
  });
});

describe('configuration: the documented set is the read set', () => {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const read = [...ENV_VARIABLES].sort();

  it('.env.example documents every variable comfywire reads, and no other', () => {
    const text = readFileSync(join(repo, '.env.example'), 'utf8');
    const documented = [...new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!))].sort();
    expect(documented).toEqual(read);
  });

  it("README's configuration table lists every variable comfywire reads, and no other", () => {
    const text = readFileSync(join(repo, 'README.md'), 'utf8');
    const section = text.slice(text.indexOf('\n## Configuration'), text.indexOf('\n## ', text.indexOf('\n## Configuration') + 1));
    const listed = [...new Set([...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!))].sort();
    expect(listed).toEqual(read);
  });
});
