import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { ConfigInvalidError } from '../../src/errors.js';
import { redactorFor } from '../../src/redact.js';

/** Hosts from COMFYUI_URL, COMFYUI_URLS or a hosts file: what each gives, and each mistake's message. */

const dir = mkdtempSync(join(tmpdir(), 'comfywire-hosts-'));
const load = (vars: Record<string, string>) => loadConfig({}, { cwd: dir, envFile: 'none.env', overrides: vars });
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
function failure(vars: Record<string, string>): string {
  try {
    load(vars);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigInvalidError);
    return (err as Error).message;
  }
  throw new Error('loaded');
}

describe('one host', () => {
  it('COMFYUI_URL gives one host named host:port, first in config.hosts and in comfyUrl/auth', () => {
    const c = load({ COMFYUI_URL: 'http://u:p%40ss@gpu-box:8188/', COMFYWIRE_FAILOVER: 'off' });
    expect(c.hosts).toEqual([{ name: 'gpu-box:8188', url: 'http://gpu-box:8188', auth: { kind: 'basic', user: 'u', password: 'p@ss' }, weight: 1, tags: [], drain: false }]);
    expect(c.comfyUrl).toBe('http://gpu-box:8188');
    expect(c.auth).toBe(c.hosts[0]!.auth);
    expect(c.failover).toBe('off');
    expect(load({}).hosts[0]!.name).toBe('127.0.0.1:8188');
    expect(load({}).failover).toBe('requeue');
  });
});

describe('COMFYUI_URLS', () => {
  it('wins over COMFYUI_URL; each URL is a host with the shared auth', () => {
    const c = load({ COMFYUI_URL: 'http://ignored:1', COMFYUI_URLS: ' http://a:8188 , https://b/ ,', COMFYUI_AUTH_TOKEN: 'tok' });
    expect(c.hosts.map((h) => [h.name, h.url, h.auth])).toEqual([
      ['a:8188', 'http://a:8188', { kind: 'bearer', token: 'tok' }],
      ['b:443', 'https://b', { kind: 'bearer', token: 'tok' }],
    ]);
    expect(c.comfyUrl).toBe('http://a:8188');
  });

  it('refuses a bad URL, a repeated address, and credentials beside a shared auth', () => {
    expect(failure({ COMFYUI_URLS: 'http://a:1,ftp://b' })).toMatch(/COMFYUI_URLS must be http:\/\/ or https:\/\/ URLs separated by commas; "ftp:\/\/b" is not one/);
    expect(failure({ COMFYUI_URLS: 'http://a:1,http://a:1/' })).toMatch(/COMFYUI_URLS names the name a:1 twice/);
    expect(failure({ COMFYUI_URLS: 'http://u:p@a:1', COMFYUI_AUTH_TOKEN: 't' })).toMatch(/a:1 carries credentials while a COMFYUI_AUTH_\* variable is also set/);
  });
});

describe('COMFYWIRE_HOSTS_FILE', () => {
  it('reads names, addresses, per-host auth, weights and tags (array or {hosts})', () => {
    const path = file('hosts.json', {
      hosts: [
        { name: 'gpu-1', url: 'http://10.0.0.2:8188', weight: 2, tags: ['sdxl'], auth: { bearer: 'token-one-secret' } },
        { name: 'gpu-2', url: 'http://10.0.0.3:8188', auth: { header: 'X-Api-Key', value: 'value-two-secret' }, drain: true },
        { name: 'gpu-3', url: 'http://x:pw-three-secret@10.0.0.4:8188' },
      ],
    });
    const c = load({ COMFYWIRE_HOSTS_FILE: path });
    expect(c.hosts).toEqual([
      { name: 'gpu-1', url: 'http://10.0.0.2:8188', auth: { kind: 'bearer', token: 'token-one-secret' }, weight: 2, tags: ['sdxl'], drain: false },
      { name: 'gpu-2', url: 'http://10.0.0.3:8188', auth: { kind: 'header', name: 'X-Api-Key', value: 'value-two-secret' }, weight: 1, tags: [], drain: true },
      { name: 'gpu-3', url: 'http://10.0.0.4:8188', auth: { kind: 'basic', user: 'x', password: 'pw-three-secret' }, weight: 1, tags: [], drain: false },
    ]);
    // Every host's secret is masked in what comfywire writes.
    const redact = redactorFor(c);
    expect(redact('token-one-secret value-two-secret pw-three-secret')).not.toMatch(/secret/);
  });

  it('names the file, the entry and the fix for each mistake', () => {
    expect(failure({ COMFYWIRE_HOSTS_FILE: file('bad.json', '{nope') })).toMatch(/COMFYWIRE_HOSTS_FILE .*bad\.json could not be read as JSON/);
    expect(failure({ COMFYWIRE_HOSTS_FILE: join(dir, 'missing.json') })).toMatch(/missing\.json could not be read as JSON: ENOENT/);
    const m = failure({ COMFYWIRE_HOSTS_FILE: file('h1.json', [{ name: 'gpu 1', url: 'ftp://x', weight: 0, tags: ['ok', 'no way'], extra: 1 }]) });
    expect(m).toMatch(/hosts\[0\]\.name: must be 1-64 letters/);
    expect(m).toMatch(/hosts\[0\]\.url: must be an http:\/\/ or https:\/\/ URL/);
    expect(m).toMatch(/hosts\[0\]\.weight: /);
    expect(m).toMatch(/hosts\[0\]\.tags\[1\]: a tag is 1-64 letters/);
    expect(m).toMatch(/hosts\[0\]: Unrecognized key: "extra"/);
    expect(failure({ COMFYWIRE_HOSTS_FILE: file('h2.json', [{ name: 'a', url: 'http://a:1' }, { name: 'a', url: 'http://b:1' }]) })).toMatch(/names the name a twice/);
    expect(failure({ COMFYWIRE_HOSTS_FILE: file('h3.json', []) })).toMatch(/lists no host/);
    expect(failure({ COMFYWIRE_HOSTS_FILE: file('h4.json', [{ name: 'a', url: 'http://u:p@a:1', auth: { bearer: 't' } }]) })).toMatch(/host 0 \(a\) has credentials in its url and an auth entry: keep one/);
    expect(failure({ COMFYWIRE_HOSTS_FILE: file('h5.json', [{ name: 'a', url: 'http://a:1' }]), COMFYUI_URLS: 'http://b:1' })).toMatch(/COMFYWIRE_HOSTS_FILE=.*and COMFYUI_URLS are both set/);
    expect(failure({ COMFYWIRE_FAILOVER: 'maybe' })).toMatch(/COMFYWIRE_FAILOVER="maybe"/);
  });
});

describe('comfyUrlConfigured (whether the main job may fall back to the simulator)', () => {
  it('counts COMFYUI_URL, COMFYUI_URLS and COMFYWIRE_HOSTS_FILE, in the environment or .env', async () => {
    const { comfyUrlConfigured } = await import('../../src/cli/runtime.js');
    const empty = mkdtempSync(join(tmpdir(), 'comfywire-noenv-'));
    expect(comfyUrlConfigured({}, empty)).toBe(false);
    for (const name of ['COMFYUI_URL', 'COMFYUI_URLS', 'COMFYWIRE_HOSTS_FILE']) {
      expect(comfyUrlConfigured({ [name]: 'x' }, empty)).toBe(true);
      const withFile = mkdtempSync(join(tmpdir(), 'comfywire-env-'));
      writeFileSync(join(withFile, '.env'), `${name}=x\n`);
      expect(comfyUrlConfigured({}, withFile)).toBe(true);
    }
    expect(comfyUrlConfigured({ COMFYUI_URLS: '  ' }, empty)).toBe(false);
  });
});
