import { createHash, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSharp } from '../lazy-sharp.js';
import { encodePng } from './png.js';
import type { ImageBatch, Mask, RgbImage, SavedFile } from './nodes/types.js';

export type FolderType = 'input' | 'output' | 'temp';
export const FOLDER_TYPES: readonly FolderType[] = ['input', 'output', 'temp'];

/**
 * The simulator's ComfyUI base folder: input/, output/, temp/, user/default/. File naming
 * follows ComfyUI: `<prefix>_<counter:05>_.png`, the counter being one more than the highest
 * already in that folder for that prefix; a `/` in the prefix makes a subfolder.
 */
export class DataDir {
  /** PreviewImage's random suffix; the real node picks one per instance. */
  private readonly tempPrefix = `ComfyUI_temp_${Array.from({ length: 5 }, () => String.fromCharCode(97 + randomInt(26))).join('')}`;

  constructor(readonly root: string) {
    for (const t of FOLDER_TYPES) mkdirSync(this.folder(t), { recursive: true });
    mkdirSync(this.userDir(), { recursive: true });
    this.clearTemp();
  }

  folder(type: FolderType): string {
    return path.join(this.root, type);
  }

  userDir(): string {
    return path.join(this.root, 'user', 'default');
  }

  /** Temp files vanish when ComfyUI starts. */
  clearTemp(): void {
    rmSync(this.folder('temp'), { recursive: true, force: true });
    mkdirSync(this.folder('temp'), { recursive: true });
  }

  /** `a.png [output]` -> output/a.png; a plain name is relative to input/. */
  resolveAnnotated(name: string): string {
    const m = /^(.*) \[(input|output|temp)\]$/.exec(name);
    const base = m ? this.folder(m[2] as FolderType) : this.folder('input');
    const rel = m ? (m[1] as string) : name;
    const full = path.resolve(base, rel);
    if (!full.startsWith(base + path.sep)) throw new Error(`path escapes folder: ${name}`);
    return full;
  }

  inputImageExists(name: string): boolean {
    try {
      return statSync(this.resolveAnnotated(name)).isFile();
    } catch {
      return false;
    }
  }

  inputImageHash(name: string): string {
    try {
      return createHash('sha256').update(readFileSync(this.resolveAnnotated(name))).digest('hex');
    } catch {
      return 'missing';
    }
  }

  async readInputImage(name: string): Promise<RgbImage> {
    const sharp = await loadSharp();
    const { data, info } = await sharp(this.resolveAnnotated(name)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }

  /**
   * LoadImage's MASK and LoadImageMask: the alpha channel inverted (1 - alpha, so transparent
   * pixels are repainted), or a colour channel as is; an image without that channel gives
   * ComfyUI's 64x64 zero mask.
   */
  async readInputMask(name: string, channel: 'alpha' | 'red' | 'green' | 'blue'): Promise<Mask> {
    const sharp = await loadSharp();
    const { data, info } = await sharp(this.resolveAnnotated(name)).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const index = { red: 0, green: 1, blue: 2, alpha: 3 }[channel];
    const hasChannel = channel === 'alpha' ? info.channels === 4 || info.channels === 2 : info.channels >= 3;
    if (!hasChannel) return { width: 64, height: 64, data: new Uint8Array(64 * 64) };
    const at = channel === 'alpha' ? info.channels - 1 : index;
    const mask = new Uint8Array(info.width * info.height);
    for (let i = 0; i < mask.length; i++) {
      const v = data[i * info.channels + at] ?? 0;
      mask[i] = channel === 'alpha' ? 255 - v : v;
    }
    return { width: info.width, height: info.height, data: mask };
  }

  /** Top-level image files of input/, sorted, as LoadImage's combo list. */
  listInputImages(): string[] {
    return readdirSync(this.folder('input'), { withFileTypes: true })
      .filter((d) => d.isFile() && /\.(png|jpe?g|webp|gif|bmp)$/i.test(d.name))
      .map((d) => d.name)
      .sort();
  }

  /**
   * A copy of an input file in output/<subfolder>/<name>: HarnessFiles's outputs, real files of any
   * kind that tests prepared (animated WebP, WAV, meshes) without the simulator encoding them.
   */
  async copyToOutput(from: string, name: string, subfolder: string): Promise<{ filename: string; subfolder: string; type: string }> {
    const source = this.resolveAnnotated(from);
    const base = this.folder('output');
    const target = path.resolve(base, subfolder, name);
    if (!target.startsWith(base + path.sep)) throw new Error(`path escapes folder: ${subfolder}/${name}`);
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(source, target);
    return { filename: path.basename(target), subfolder, type: 'output' };
  }

  async saveImages(images: ImageBatch, prefix: string, kind: 'output' | 'temp', pngText: Record<string, string>): Promise<SavedFile[]> {
    const fullPrefix = kind === 'temp' ? `${this.tempPrefix}${prefix}` : prefix;
    return this.save(images.map((image) => () => encodePng(image.width, image.height, image.data, pngText)), fullPrefix, 'png', kind);
  }

  async saveFiles(contents: readonly Uint8Array[], prefix: string, extension: string): Promise<SavedFile[]> {
    return this.save(contents.map((bytes) => () => bytes), prefix, extension, 'output');
  }

  /** folder_paths.get_save_image_path's folder part: refused outside output/ (or temp/), created. */
  async saveFolder(prefix: string, kind: 'output' | 'temp'): Promise<{ dir: string; subfolder: string; filename: string }> {
    const base = this.folder(kind);
    const subfolder = path.posix.dirname(prefix) === '.' ? '' : path.posix.dirname(prefix);
    const filename = path.posix.basename(prefix);
    const dir = path.resolve(base, subfolder);
    if (dir !== base && !dir.startsWith(base + path.sep)) {
      throw new Error('**** ERROR: Saving image outside the output folder is not allowed.');
    }
    await mkdir(dir, { recursive: true });
    return { dir, subfolder, filename };
  }

  /** folder_paths.get_save_image_path, then one file per entry with the counter counting up. */
  private async save(contents: Array<() => Uint8Array>, prefix: string, extension: string, kind: 'output' | 'temp'): Promise<SavedFile[]> {
    const { dir, subfolder, filename } = await this.saveFolder(prefix, kind);
    let counter = nextCounter(dir, filename);
    const results: SavedFile[] = [];
    for (const content of contents) {
      const file = `${filename}_${String(counter).padStart(5, '0')}_.${extension}`;
      await writeFile(path.join(dir, file), content());
      results.push({ filename: file, subfolder, type: kind });
      counter++;
    }
    return results;
  }
}

function nextCounter(dir: string, filename: string): number {
  if (!existsSync(dir)) return 1;
  let max = 0;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`${filename}_`)) continue;
    const m = /^(\d+)_/.exec(f.slice(filename.length + 1));
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}
