import { z } from 'zod';

/**
 * `schema.safeParse(value)` that never throws. zod 4.1's record check reads
 * `value.constructor.prototype`, so an object whose own "constructor" is null (valid JSON: a
 * socket frame, an HTTP body, a caller's argument) makes it throw a TypeError instead of failing.
 * Such a value simply does not fit: it becomes an ordinary issue at the root.
 */
export function safeParse<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  try {
    return schema.safeParse(value) as z.ZodSafeParseResult<z.output<S>>;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      success: false,
      error: new z.ZodError([{ code: 'custom', path: [], message: `a value that cannot be checked (${why.slice(0, 120)})`, input: value }]) as z.ZodError<z.output<S>>,
    };
  }
}
