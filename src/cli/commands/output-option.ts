import { InvalidArgumentError } from 'commander';

/**
 * `--output DIR`, shared by every command that writes outputs (generate, serve). It sets
 * COMFYWIRE_OUTPUT_DIR for this run, so the folder rules (relative to the working folder, the
 * per-job subfolders, what upload_image may read back) are the configuration's, in one place.
 */
export const OUTPUT_HELP =
  'folder for the outputs, one subfolder per prompt id (default: COMFYWIRE_OUTPUT_DIR, else ./shared/outputs in a folder that has shared/, else the user data folder)';

export function nonEmptyFolder(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must name a folder.');
  return value;
}

/** The configuration override for `--output`, when given. */
export function outputOverride(output: string | undefined): Record<string, string> {
  return output === undefined ? {} : { COMFYWIRE_OUTPUT_DIR: output };
}
