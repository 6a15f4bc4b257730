/** The optional video decoder: which ffmpeg comfywire will use for poster frames and durations, and whether it runs. */
import { locateFfmpeg, packagedFfmpeg, runFfmpeg } from '../media/ffmpeg.js';
import { errorText, fail, ok, warn, type DoctorCheck } from './types.js';

const NAME = 'video decoder';
/** `ffmpeg -version` answers at once; a binary that cannot run (wrong libc, no exec permission) fails fast too. */
const VERSION_TIMEOUT_MS = 5_000;

export async function checkVideoDecoder(
  setting: string | undefined,
  pathEnv = process.env.PATH ?? '',
  packaged: () => string | undefined = packagedFfmpeg,
): Promise<DoctorCheck> {
  if (setting === 'off') return ok(NAME, 'off (COMFYWIRE_FFMPEG=off): videos are listed and linked, without a poster frame or duration');
  const found = await locateFfmpeg(setting, pathEnv, packaged);
  if (!found) {
    return setting
      ? fail(NAME, `COMFYWIRE_FFMPEG=${setting} is not an executable file`, 'Point COMFYWIRE_FFMPEG at an ffmpeg binary, or unset it to use the ffmpeg on PATH or the one comfywire installs.')
      : warn(
          NAME,
          'no ffmpeg: videos are listed and linked, without a poster frame or duration',
          'Install ffmpeg (apt install ffmpeg, brew install ffmpeg, winget install ffmpeg), or reinstall comfywire with its optional dependencies (@ffmpeg-installer/ffmpeg), or set COMFYWIRE_FFMPEG to a binary.',
        );
  }
  const where = `${found.path}, from ${found.from}`;
  try {
    const run = await runFfmpeg(found.path, ['-version'], VERSION_TIMEOUT_MS);
    const version = /ffmpeg version (\S+)/.exec(run.stdout.toString('utf8'))?.[1];
    if (run.code !== 0 || !version) throw new Error(`it exited ${run.code} without a version${run.stderr ? `: ${run.stderr.trim().slice(0, 200)}` : ''}`);
    return ok(NAME, `ffmpeg ${version} (${where}): poster frames and durations of videos`);
  } catch (error) {
    return warn(NAME, `ffmpeg at ${where} does not run: ${errorText(error)}`, 'Install a working ffmpeg on PATH, or set COMFYWIRE_FFMPEG to one; until then videos are linked without a poster frame.');
  }
}
