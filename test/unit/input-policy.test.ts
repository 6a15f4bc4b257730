import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  capText,
  charCount,
  checkIdentifier,
  checkText,
  excerpt,
  firstForbidden,
  nullRecord,
  own,
  PROMPT_ID,
  NAME,
  PATH,
} from '../../src/input-policy/index.js';
import { generateRequestSchema } from '../../src/generation/request-schema.js';
import { requestValues } from '../../src/generation/request.js';

/**
 * The input policy as properties over any text: what it refuses, where it says the problem is,
 * what it lets through (unchanged but for NFC), and how long its messages can get.
 */

const RULE = { field: 'prompt', maxChars: 4000, required: true };

/** Every code point the policy refuses in free text, one of each kind. */
const FORBIDDEN = [
  0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9b, 0x9f,
  0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0xd800, 0xdbff, 0xdc00, 0xdfff,
];
const forbiddenChar = fc.constantFrom(...FORBIDDEN).map((cp) => String.fromCharCode(cp));

/** Text a person could type: any Unicode (pairs well formed), newline and tab, nothing refused. */
const allowedText = fc
  .array(
    fc.oneof(
      { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
      { weight: 1, arbitrary: fc.constantFrom('\n', '\t', 'e\u0301', '\u1100\u1161\u11a8') },
    ),
    { maxLength: 60 },
  )
  .map((parts) => [...parts.join('')].filter((ch) => firstForbidden(ch) === undefined).join(''))
  .filter((s) => firstForbidden(s) === undefined);

describe('text', () => {
  it('NFC normalisation is idempotent: accepted text checks again to itself', () => {
    fc.assert(
      fc.property(allowedText.filter((s) => s.trim() !== ''), (s) => {
        const once = checkText(s, RULE);
        expect(once.ok).toBe(true);
        if (!once.ok) return;
        const twice = checkText(once.value, RULE);
        expect(twice).toEqual({ ok: true, value: once.value });
      }),
    );
  });

  it('accepted text comes back unchanged except for NFC', () => {
    fc.assert(
      fc.property(allowedText.filter((s) => s.trim() !== ''), (s) => {
        expect(checkText(s, RULE)).toEqual({ ok: true, value: s.normalize('NFC') });
      }),
    );
    // Decomposed "é" composes; a Hangul syllable typed as jamo becomes the syllable.
    expect(checkText('cafe\u0301', RULE)).toEqual({ ok: true, value: 'caf\u00e9' });
    expect(checkText('\u1100\u1161\u11a8', RULE)).toEqual({ ok: true, value: '\uac01' });
  });

  it('any text with a refused control is refused, with the index of the first one in characters', () => {
    fc.assert(
      fc.property(allowedText, forbiddenChar, allowedText, (before, bad, after) => {
        // A lone surrogate must stay lone: not after a high half, nor before a low half.
        fc.pre(!/[\ud800-\udbff]$/.test(before) && !/^[\udc00-\udfff]/.test(after + bad));
        const result = checkText(before + bad + after, RULE);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.problem).toContain(`at index ${charCount(before)} (counting characters from 0)`);
        expect(result.problem).toMatch(/^prompt contains /);
      }),
    );
  });

  it('names what it refused', () => {
    const problem = (s: string) => (checkText(s, RULE) as { problem: string }).problem;
    expect(problem('a red fox\u0000')).toBe(
      'prompt contains a control character (U+0000 NUL) at index 9 (counting characters from 0); only newline and tab are allowed. Remove it and send plain text.',
    );
    expect(problem('\u001b[31mred')).toContain('(U+001B ESC, which starts a terminal escape sequence) at index 0');
    expect(problem('ab\u202eevil')).toContain('a bidirectional control (U+202E RLO, which reorders how text is displayed) at index 2');
    expect(problem('x\ud800y')).toContain('a lone surrogate (U+D800, half of a UTF-16 pair without its other half) at index 1');
    expect(problem('x\u0085')).toContain('a C1 control character (U+0085) at index 1');
    // An emoji is one character: the index counts it once.
    expect(problem('🦊\u0007')).toContain('at index 1');
  });

  it('empty and whitespace-only prompts are refused; a negative prompt may be empty', () => {
    expect(checkText('', RULE)).toEqual({ ok: false, problem: 'prompt is empty. Describe the image to generate (subject, style, lighting, composition).' });
    expect(checkText(' \n\t ', RULE)).toEqual({
      ok: false,
      problem: 'prompt is only whitespace. Describe the image to generate (subject, style, lighting, composition).',
    });
    expect(checkText('', { field: 'negative_prompt', maxChars: 10 })).toEqual({ ok: true, value: '' });
  });

  it('the length limit counts characters after NFC, on both sides of it', () => {
    const rule = { field: 'prompt', maxChars: 5 };
    expect(checkText('abcde', rule).ok).toBe(true);
    expect(checkText('abcdef', rule)).toEqual({
      ok: false,
      problem: 'prompt is 6 characters; the limit is 5. Shorten it to the description of the image (subject, style, lighting, composition).',
    });
    // Six code points before NFC, five after: accepted.
    expect(checkText('abcde\u0301', rule)).toEqual({ ok: true, value: 'abcd\u00e9' });
    // Five emoji are five characters (ten UTF-16 units).
    expect(checkText('🦊🦊🦊🦊🦊', rule).ok).toBe(true);
  });
});

describe('error texts are short for any input', () => {
  const anyValue = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 5000 }),
    fc.jsonValue(),
    fc.string({ maxLength: 20 }).map((s) => s.repeat(3000)),
  );

  it('an excerpt is at most ~60 characters of the original, escaped, with its length', () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        const e = excerpt(v);
        // 60 characters, each escaped to at most 6 (\uXXXX), quotes, "…" and " (N characters)".
        expect(e.length).toBeLessThanOrEqual(60 * 6 + 30);
        expect(firstForbidden(e, false)).toBeUndefined();
      }),
    );
    expect(excerpt('x'.repeat(70_000))).toBe(`"${'x'.repeat(60)}…" (70000 characters)`);
    expect(excerpt('a\u001b[2Jb\u202e')).toBe('"a\\u001b[2Jb\\u202e"');
    expect(excerpt({ a: 'b'.repeat(100) })).toBe(`{"a":"${'b'.repeat(54)}… (108 characters)`);
  });

  it('every refusal of text, an id, a name or a path stays under 500 characters and shows no raw control', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), (s) => {
        for (const result of [
          checkText(s, { ...RULE, maxChars: 100 }),
          checkIdentifier(s, 'prompt_id', PROMPT_ID),
          checkIdentifier(s, 'sampler', NAME),
          checkIdentifier(s, 'path', PATH),
        ]) {
          if (result.ok) continue;
          expect(result.problem.length).toBeLessThan(500);
          expect(firstForbidden(result.problem, true)).toBeUndefined();
        }
      }),
    );
  });

  it('a 70,000-character id gets a short answer that says the limit', () => {
    const result = checkIdentifier('x'.repeat(70_000), 'prompt_id', PROMPT_ID);
    expect(result).toEqual({
      ok: false,
      problem:
        'prompt_id must be a prompt_id such as 0f4c6f1e-2b7a-4d0a-9c1e-5b8d2a7c9e31 (from generate_image or get_queue); ' +
        `got "${'x'.repeat(24)}…" (70000 characters), over the 128-character limit.`,
    });
  });

  it('capText cuts long text and never splits a surrogate pair', () => {
    expect(capText('short', 10)).toBe('short');
    expect(capText(`${'a'.repeat(9)}🦊tail`, 10)).toBe(`${'a'.repeat(9)}… (cut: 15 characters in all)`);
  });
});

describe('ids and names', () => {
  it('prompt ids: letters, digits, "-", "_", "."; never only dots (they name folders)', () => {
    for (const ok of ['0f4c6f1e-2b7a-4d0a-9c1e-5b8d2a7c9e31', 'constructor', '__proto__', 'job_1.a']) {
      expect(checkIdentifier(ok, 'prompt_id', PROMPT_ID)).toEqual({ ok: true, value: ok });
    }
    for (const bad of ['..', '.', 'a/b', 'a b', 'a\nb', '']) expect(checkIdentifier(bad, 'prompt_id', PROMPT_ID).ok).toBe(false);
    expect((checkIdentifier('a/../b', 'prompt_id', PROMPT_ID) as { problem: string }).problem).toBe(
      'prompt_id must be a prompt_id such as 0f4c6f1e-2b7a-4d0a-9c1e-5b8d2a7c9e31 (from generate_image or get_queue); got "a/../b"; use only letters, digits, "-", "_" and ".".',
    );
  });

  it('names keep their spelling (no NFC: they are compared with what ComfyUI lists) but may not hold a control or a newline', () => {
    expect(checkIdentifier('GITS[coeff=1.2]', 'scheduler', NAME)).toEqual({ ok: true, value: 'GITS[coeff=1.2]' });
    expect(checkIdentifier('sd15/cafe\u0301.safetensors', 'checkpoint', NAME)).toEqual({ ok: true, value: 'sd15/cafe\u0301.safetensors' });
    expect((checkIdentifier('euler\n', 'sampler', NAME) as { problem: string }).problem).toBe(
      'sampler must be a name as list_workflows or list_models shows it; got "euler\\n", which contains a newline at index 5.',
    );
    expect((checkIdentifier(' euler', 'sampler', NAME) as { problem: string }).problem).toContain('starts or ends with whitespace');
    expect(checkIdentifier('x'.repeat(256), 'sampler', NAME).ok).toBe(true);
    expect(checkIdentifier('x'.repeat(257), 'sampler', NAME).ok).toBe(false);
  });
});

describe('own-property lookups', () => {
  it('"constructor", "__proto__" and "hasOwnProperty" are not entries of a plain record', () => {
    const record: Record<string, number> = JSON.parse('{"a": 1}') as Record<string, number>;
    for (const key of ['constructor', '__proto__', 'hasOwnProperty', 'toString']) expect(own(record, key)).toBeUndefined();
    expect(own(record, 'a')).toBe(1);
    const parsed = JSON.parse('{"__proto__": 5}') as Record<string, number>;
    expect(own(parsed, '__proto__')).toBe(5);
  });

  it('a null-prototype record takes "__proto__" as an ordinary key', () => {
    const r = nullRecord<number>();
    r['__proto__'] = 1;
    expect(Object.keys(r)).toEqual(['__proto__']);
  });

  it('params: "constructor" and "__proto__" are parameter names like any other, never the prototype', () => {
    const schema = generateRequestSchema({ promptChars: 100 });
    const parsed = schema.parse(JSON.parse('{"prompt": "a fox", "params": {"constructor": 1, "__proto__": "x", "prompt": "cafe\\u0301"}}'));
    expect(Object.keys(parsed.params!)).toEqual(['constructor', '__proto__', 'prompt']);
    const values = requestValues(parsed);
    expect(Object.keys(values)).toEqual(['prompt', 'constructor', '__proto__']);
    expect(values['prompt']).toBe('caf\u00e9');
    expect(Object.getPrototypeOf(values)).toBeNull();
  });
});
