import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { MASK, redactorFor, redactSecrets, redactUrls } from '../../src/redact.js';

describe('redaction', () => {
  it('masks the password of any URL in a text, keeps the rest', () => {
    expect(redactUrls('GET http://alice:pw@host:8188/x failed')).toBe(`GET http://alice:${MASK}@host:8188/x failed`);
    expect(redactUrls('postgres://u:p%40ss@db:5432/c and https://h/ok')).toBe(`postgres://u:${MASK}@db:5432/c and https://h/ok`);
    expect(redactUrls('http://127.0.0.1:8188 stays')).toBe('http://127.0.0.1:8188 stays');
    expect(redactUrls('mail a@b.c, http://user@host/')).toBe('mail a@b.c, http://user@host/');
  });

  it('masks credentials in Authorization-like text a server may echo', () => {
    expect(redactUrls('authorization: Bearer abcdefgh12345678')).toBe(`authorization: Bearer ${MASK}`);
    expect(redactUrls('Authorization: Basic YWxpY2U6cHc=')).toBe(`Authorization: Basic ${MASK}`);
    expect(redactUrls('a Basic idea')).toBe('a Basic idea');
  });

  it('masks every configured secret, in plain, URL-encoded and basic-header forms', () => {
    const config = loadConfig(
      {
        COMFYUI_URL: 'http://alice:url-pass-0001@gpu:8188',
        COMFYWIRE_HTTP_TOKEN: 'http-token-0002',
        DATABASE_URL: 'postgres://cw:db%2Fpass-0003@db/cw',
      },
      { envFile: '/nonexistent/.env' },
    );
    const redact = redactorFor(config);
    const basic = Buffer.from('alice:url-pass-0001').toString('base64');
    const text = `a url-pass-0001 b http-token-0002 c db/pass-0003 d db%2Fpass-0003 e ${basic} f`;
    const out = redact(text);
    for (const s of ['url-pass-0001', 'http-token-0002', 'db/pass-0003', 'db%2Fpass-0003', basic]) expect(out).not.toContain(s);
    expect(out).toBe(`a ${MASK} b ${MASK} c ${MASK} d ${MASK} e ${MASK} f`);
    for (const [k, v] of [
      ['COMFYUI_AUTH_TOKEN', 'bearer-0004'],
      ['COMFYUI_AUTH_HEADER_VALUE', 'header-0005'],
    ] as const) {
      const extra = k === 'COMFYUI_AUTH_HEADER_VALUE' ? { COMFYUI_AUTH_HEADER_NAME: 'X-Key' } : {};
      const r = redactorFor(loadConfig({ [k]: v, ...extra }, { envFile: '/nonexistent/.env' }));
      expect(r(`x ${v} y`)).toBe(`x ${MASK} y`);
    }
  });

  it('short secrets are not scrubbed as substrings (they would garble every line), long ones always are', () => {
    expect(redactSecrets(['ab'])('tab and cab')).toBe('tab and cab');
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), fc.string(), fc.string(), (secret, before, after) => {
        const out = redactSecrets([secret])(`${before}${secret}${after}`);
        return !out.includes(secret);
      }),
    );
  });
});
