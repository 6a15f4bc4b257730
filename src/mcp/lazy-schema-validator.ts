import type { jsonSchemaValidator, JsonSchemaType, JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';

/**
 * The SDK's server builds an Ajv instance in its constructor (compiling Ajv's meta-schemas: ~40 ms
 * on the start-up path, and a few hundred KB in every HTTP session's server), for one use only:
 * checking what a client answers to an elicitation. comfywire never elicits today, so the Ajv
 * validator is made on the first schema it is asked for, once per process, and shared.
 */
let shared: AjvJsonSchemaValidator | undefined;

export const lazySchemaValidator: jsonSchemaValidator = {
  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    shared ??= new AjvJsonSchemaValidator();
    return shared.getValidator<T>(schema);
  },
};
