import fc from 'fast-check';
import { parse } from 'jsonc-parser';
import { appendElement, isBareEmpty, layoutOf, removeMember, setMember } from '../../src/install/jsonc-edit.js';

const ENTRY = { type: 'stdio', command: 'comfywire', args: ['serve'], env: { COMFYUI_URL: 'http://gpu:8188' } };

/** Sets then removes `path`: the text must come back byte for byte. */
function roundTrip(text: string, path: string[]): string {
  const added = setMember(text, path, ENTRY);
  expect(parse(added.text, [], { allowTrailingComma: true })).toBeDefined();
  let back = removeMember(added.text, path);
  for (const path of [...added.created].reverse()) back = removeMember(back, path);
  return back;
}

describe('jsonc-edit: set and remove one member, nothing else touched', () => {
  it.each([
    ['comments and a one-line sibling', '{\n  // servers I use\n  "servers": {\n    "a": { "command": "x" } // trailing\n  }\n}\n'],
    ['an empty servers object', '{\n  "servers": {}\n}\n'],
    ['a compact one-line file', '{"servers": {"other": {"command": "x"}}}'],
    ['tabs and CRLF', '{\r\n\t"servers": {\r\n\t\t"a": {\r\n\t\t\t"command": "x"\r\n\t\t}\r\n\t}\r\n}\r\n'],
    ['trailing commas (JSONC)', '{\n  "servers": {\n    "a": { "command": "x" },\n  },\n}\n'],
    ['only comments inside', '{\n  "servers": {\n    // add yours here\n  }\n}\n'],
    ['block comments around', '/* top */\n{\n  "servers": {\n    "a": {} /* after a */\n  },\n  /* c */\n  "inputs": [\n    // keep\n  ]\n}\n'],
  ])('%s', (_name, text) => {
    const added = setMember(text, ['servers', 'comfywire'], ENTRY);
    expect(parse(added.text, [], { allowTrailingComma: true }).servers.comfywire).toEqual(ENTRY);
    // Every comment survives the insertion.
    for (const comment of text.match(/\/\/[^\n\r]*|\/\*[\s\S]*?\*\//g) ?? []) expect(added.text).toContain(comment);
    expect(removeMember(added.text, ['servers', 'comfywire'])).toBe(text);
  });

  it('creates missing parents and reports the outermost one, so it can go again', () => {
    const text = '{\n  "theme": "dark"\n}\n';
    const added = setMember(text, ['projects', '/p', 'mcpServers', 'comfywire'], ENTRY);
    expect(added.created).toEqual([['projects'], ['projects', '/p'], ['projects', '/p', 'mcpServers']]);
    expect(parse(added.text).projects['/p'].mcpServers.comfywire).toEqual(ENTRY);
    expect(roundTrip(text, ['projects', '/p', 'mcpServers', 'comfywire'])).toBe(text);
  });

  it('replaces an existing value as a whole (nothing of the old one kept) and keeps its neighbours', () => {
    const text = '{\n  "servers": {\n    "comfywire": { "command": "node", "env": { "COMFYUI_AUTH_TOKEN": "old" } }, // ours\n    "b": {}\n  }\n}\n';
    const out = setMember(text, ['servers', 'comfywire'], ENTRY).text;
    expect(parse(out).servers.comfywire).toEqual(ENTRY);
    expect(out).not.toContain('old');
    expect(out).toContain('}, // ours\n    "b": {}\n  }\n}\n');
  });

  it('refuses to descend into something that is not an object', () => {
    expect(() => setMember('{"servers": []}', ['servers', 'comfywire'], ENTRY)).toThrow(/not an object/);
  });

  it('writes a fresh document for an empty text', () => {
    const out = setMember('', ['mcpServers', 'comfywire'], ENTRY);
    expect(JSON.parse(out.text)).toEqual({ mcpServers: { comfywire: ENTRY } });
    expect(out.text.endsWith('}\n')).toBe(true);
  });

  it('appends to an array (created when missing) and removes the element again', () => {
    const input = { type: 'promptString', id: 'comfywire-token', password: true };
    const text = '{\n  "servers": {}\n}\n';
    const created = appendElement(text, ['inputs'], input);
    expect(created.created).toEqual([['inputs']]);
    expect(parse(created.text).inputs).toEqual([input]);
    const existing = '{\n  "inputs": [\n    { "id": "theirs" } // mine\n  ]\n}\n';
    const appended = appendElement(existing, ['inputs'], input);
    expect(parse(appended.text).inputs).toEqual([{ id: 'theirs' }, input]);
    expect(removeMember(appended.text, ['inputs', 1])).toBe(existing);
  });

  it('removing a member that is not there changes nothing', () => {
    const text = '{ "servers": { "a": 1 } }';
    expect(removeMember(text, ['servers', 'comfywire'])).toBe(text);
    expect(removeMember(text, ['nope', 'comfywire'])).toBe(text);
  });

  it('tells a bare empty container from one holding comments', () => {
    expect(isBareEmpty('{"a": {}}', ['a'])).toBe(true);
    expect(isBareEmpty('{"a": {\n // x\n}}', ['a'])).toBe(false);
    expect(isBareEmpty('{"a": {"b": 1}}', ['a'])).toBe(false);
    expect(isBareEmpty('{}', ['a'])).toBe(false);
  });

  it('copies the layout in use', () => {
    expect(layoutOf('{\n\t"a": 1\n}')).toEqual({ eol: '\n', unit: '\t' });
    expect(layoutOf('{\r\n    "a": {\r\n        "b": 1\r\n    }\r\n}')).toEqual({ eol: '\r\n', unit: '    ' });
    expect(layoutOf('{"a": 1}')).toEqual({ eol: '\n', unit: '  ' });
  });

  it('round-trips any pretty-printed document with other servers (property)', () => {
    const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== 'comfywire' && k !== '__proto__');
    const server = fc.record({ command: fc.string({ maxLength: 6 }), args: fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }) });
    fc.assert(
      fc.property(
        fc.dictionary(key, server, { maxKeys: 4 }),
        fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
        fc.constantFrom(2, 4, '\t'),
        fc.boolean(),
        (servers, others, indent, comment) => {
          let text = `${JSON.stringify({ ...others, mcpServers: servers }, null, indent)}\n`;
          if (comment && Object.keys(servers).length > 0) text = text.replace('"mcpServers": {', '"mcpServers": { // mine');
          expect(roundTrip(text, ['mcpServers', 'comfywire'])).toBe(text);
        },
      ),
      { numRuns: 200 },
    );
  });
});
