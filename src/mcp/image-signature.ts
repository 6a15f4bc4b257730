/**
 * Image types by their first bytes (the way PIL, behind ComfyUI's LoadImage, tells them apart):
 * a file's name says nothing about what it holds, and only images belong in ComfyUI's input folder.
 */

/** How many leading bytes `imageTypeOf` needs. */
export const IMAGE_SIGNATURE_BYTES = 32;

export type ImageType = 'PNG' | 'JPEG' | 'WebP' | 'GIF' | 'BMP' | 'TIFF';

const ascii = (head: Uint8Array, at: number, text: string): boolean =>
  head.length >= at + text.length && [...text].every((c, i) => head[at + i] === c.charCodeAt(0));

/** Sizes of the BMP info headers Windows and OS/2 write (BITMAPCOREHEADER … BITMAPV5HEADER). */
const BMP_INFO_HEADER_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

const SIGNATURES: ReadonlyArray<[ImageType, (head: Uint8Array) => boolean]> = [
  ['PNG', (h) => ascii(h, 0, '\x89PNG\r\n\x1a\n')],
  ['JPEG', (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff],
  ['WebP', (h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WEBP')],
  ['GIF', (h) => ascii(h, 0, 'GIF87a') || ascii(h, 0, 'GIF89a')],
  ['TIFF', (h) => ascii(h, 0, 'II*\0') || ascii(h, 0, 'MM\0*')],
  // "BM" alone starts plenty of text: the info header's size must be one BMP uses as well.
  ['BMP', (h) => ascii(h, 0, 'BM') && h.length >= 18 && BMP_INFO_HEADER_SIZES.has(new DataView(h.buffer, h.byteOffset, h.length).getUint32(14, true))],
];

export const IMAGE_TYPES: readonly ImageType[] = ['PNG', 'JPEG', 'WebP', 'GIF', 'BMP', 'TIFF'];

/** The image type the bytes start with, or undefined when they are not one of IMAGE_TYPES. */
export function imageTypeOf(head: Uint8Array): ImageType | undefined {
  return SIGNATURES.find(([, matches]) => matches(head))?.[0];
}
