import { expect, it } from '@jest/globals';
import { lazySchemaValidator } from '../../src/mcp/lazy-schema-validator.js';

/**
 * The server's JSON-schema validator (what the SDK checks elicitation answers with) is made on
 * first use instead of in every server's constructor; made late, it must still judge as Ajv does.
 */
const schema = {
  type: 'object',
  properties: { size: { type: 'integer', minimum: 64 }, name: { type: 'string' } },
  required: ['size'],
} as const;

it('accepts what the schema allows and refuses the rest with Ajv`s message', () => {
  const check = lazySchemaValidator.getValidator<{ size: number }>(schema);
  expect(check({ size: 512, name: 'a' })).toEqual({ valid: true, data: { size: 512, name: 'a' }, errorMessage: undefined });
  const refused = check({ size: 8 });
  expect(refused.valid).toBe(false);
  expect(refused.errorMessage).toMatch(/size.*>= 64/);
  expect(check({ name: 'a' }).valid).toBe(false);
});

it('one validator serves every schema it is given (a second schema is not judged by the first)', () => {
  const a = lazySchemaValidator.getValidator({ type: 'string' });
  const b = lazySchemaValidator.getValidator({ type: 'number' });
  expect(a('x').valid).toBe(true);
  expect(b('x').valid).toBe(false);
  expect(b(3).valid).toBe(true);
});
