import { extname } from 'node:path';

/**
 * What kind of file an output is, from its extension and the UI-output key ComfyUI listed it
 * under. The extension decides the MIME type; the key and the file's own frames (probe.ts) refine
 * the kind: a .webp under `images` with `animated: [true]`, or with several frames, is animated.
 */

export const OUTPUT_KINDS = ['image', 'animated', 'video', 'audio', '3d', 'latent', 'text', 'other'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

const BY_EXTENSION: Record<string, [OutputKind, string]> = {
  '.png': ['image', 'image/png'],
  '.apng': ['animated', 'image/apng'],
  '.jpg': ['image', 'image/jpeg'],
  '.jpeg': ['image', 'image/jpeg'],
  '.webp': ['image', 'image/webp'],
  '.gif': ['image', 'image/gif'],
  '.bmp': ['image', 'image/bmp'],
  '.tif': ['image', 'image/tiff'],
  '.tiff': ['image', 'image/tiff'],
  '.avif': ['image', 'image/avif'],
  '.mp4': ['video', 'video/mp4'],
  '.m4v': ['video', 'video/mp4'],
  '.webm': ['video', 'video/webm'],
  '.mov': ['video', 'video/quicktime'],
  '.mkv': ['video', 'video/x-matroska'],
  '.avi': ['video', 'video/x-msvideo'],
  '.wav': ['audio', 'audio/wav'],
  '.mp3': ['audio', 'audio/mpeg'],
  '.flac': ['audio', 'audio/flac'],
  '.ogg': ['audio', 'audio/ogg'],
  '.opus': ['audio', 'audio/opus'],
  '.m4a': ['audio', 'audio/mp4'],
  '.txt': ['text', 'text/plain'],
  '.md': ['text', 'text/markdown'],
  '.json': ['text', 'application/json'],
  '.csv': ['text', 'text/csv'],
  '.glb': ['3d', 'model/gltf-binary'],
  '.gltf': ['3d', 'model/gltf+json'],
  '.obj': ['3d', 'model/obj'],
  '.ply': ['3d', 'application/ply'],
  '.stl': ['3d', 'model/stl'],
  '.fbx': ['3d', 'application/octet-stream'],
  '.usdz': ['3d', 'model/vnd.usdz+zip'],
  '.latent': ['latent', 'application/octet-stream'],
  '.safetensors': ['other', 'application/octet-stream'],
};

export function classifyFile(filename: string): { kind: OutputKind; mime: string } {
  const known = BY_EXTENSION[extname(filename).toLowerCase()];
  return known ? { kind: known[0], mime: known[1] } : { kind: 'other', mime: 'application/octet-stream' };
}

/**
 * The kind before the file is opened: the extension, except that an image file listed under a
 * key that names a video or an animation (VideoHelperSuite's `gifs`, `video`, `animated`) or by
 * a node that set `animated: [true]` (SaveAnimatedWEBP/PNG) is an animated image.
 */
export function kindFromListing(filename: string, uiKey: string | undefined, animatedFlag: boolean): { kind: OutputKind; mime: string } {
  const byExt = classifyFile(filename);
  if (byExt.kind !== 'image') return byExt;
  if (animatedFlag || (uiKey !== undefined && /gif|video|animat/i.test(uiKey))) return { ...byExt, kind: 'animated' };
  return byExt;
}
