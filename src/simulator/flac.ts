/**
 * Minimal FLAC encoder: 16-bit samples in VERBATIM subframes (no prediction, no bit packing:
 * every field falls on a byte boundary), a STREAMINFO block and a VORBIS_COMMENT block with
 * the metadata ComfyUI's SaveAudio writes. Real FLAC that any decoder plays; the simulator
 * needs validity and duration, not compression.
 */
const MAGIC = Buffer.from('fLaC', 'ascii');
const BLOCK_SIZE = 4096;
const BITS_PER_SAMPLE = 16;
const BLOCK_STREAMINFO = 0;
const BLOCK_VORBIS_COMMENT = 4;
const SUBFRAME_VERBATIM = 0b000001 << 1;
const VENDOR = 'comfywire simulator';

/** CRC-8, polynomial x^8+x^2+x+1 (0x07), initial 0: the frame header check. */
export function crc8(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** CRC-16, polynomial x^16+x^15+x^2+1 (0x8005), initial 0: the whole-frame check. */
export function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** `channels[c][i]` in -1..1, all the same length; 1 to 8 channels. */
export function encodeFlac(channels: readonly Float32Array[], sampleRate: number, comments: Record<string, string> = {}): Buffer {
  const count = channels.length;
  const total = channels[0]?.length ?? 0;
  if (count < 1 || count > 8 || channels.some((c) => c.length !== total)) throw new RangeError('FLAC needs 1 to 8 channels of equal length');
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate >= 1 << 20) throw new RangeError(`invalid sample rate ${sampleRate}`);
  const frames: Buffer[] = [];
  for (let start = 0, index = 0; start < total; start += BLOCK_SIZE, index++) {
    frames.push(frame(channels, start, Math.min(BLOCK_SIZE, total - start), index));
  }
  return Buffer.concat([MAGIC, streamInfo(count, sampleRate, total, false), vorbisComment(comments, true), ...frames]);
}

function blockHeader(type: number, length: number, last: boolean): Buffer {
  const header = Buffer.alloc(4);
  header[0] = (last ? 0x80 : 0) | type;
  header.writeUIntBE(length, 1, 3);
  return header;
}

function streamInfo(channels: number, sampleRate: number, total: number, last: boolean): Buffer {
  const body = Buffer.alloc(34);
  const block = Math.min(BLOCK_SIZE, Math.max(16, total));
  body.writeUInt16BE(block, 0);
  body.writeUInt16BE(block, 2);
  // bytes 4-9: min/max frame size, 0 = unknown.
  // 20 bits sample rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
  const packed = (BigInt(sampleRate) << 44n) | (BigInt(channels - 1) << 41n) | (BigInt(BITS_PER_SAMPLE - 1) << 36n) | BigInt(total);
  body.writeBigUInt64BE(packed, 10);
  // bytes 18-33: MD5 of the samples, all zero = not computed (allowed by the format).
  return Buffer.concat([blockHeader(BLOCK_STREAMINFO, body.length, last), body]);
}

function vorbisComment(comments: Record<string, string>, last: boolean): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const vendor = Buffer.from(VENDOR, 'utf8');
  parts.push(u32(vendor.length), vendor, u32(Object.keys(comments).length));
  for (const [key, value] of Object.entries(comments)) {
    const entry = Buffer.from(`${key}=${value}`, 'utf8');
    parts.push(u32(entry.length), entry);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([blockHeader(BLOCK_VORBIS_COMMENT, body.length, last), body]);
}

function frame(channels: readonly Float32Array[], start: number, size: number, index: number): Buffer {
  const header = Buffer.concat([
    // Sync code, fixed block size; block size "16 bits at the end", sample rate "from STREAMINFO".
    Buffer.from([0xff, 0xf8, 0x70, ((channels.length - 1) << 4) | (0b100 << 1)]),
    utf8Number(index),
    Buffer.from([(size - 1) >> 8, (size - 1) & 0xff]),
  ]);
  const body = Buffer.alloc(channels.length * (1 + size * 2));
  let at = 0;
  for (const channel of channels) {
    body[at++] = SUBFRAME_VERBATIM;
    for (let i = 0; i < size; i++, at += 2) body.writeInt16BE(toInt16(channel[start + i] ?? 0), at);
  }
  const withCrc8 = Buffer.concat([header, Buffer.from([crc8(header)]), body]);
  const crc = Buffer.alloc(2);
  crc.writeUInt16BE(crc16(withCrc8));
  return Buffer.concat([withCrc8, crc]);
}

function toInt16(v: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
}

/** The frame number, coded like UTF-8 (FLAC extends it to 36 bits; 31 are plenty here). */
export function utf8Number(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const continuation: number[] = [];
  let rest = n;
  // After k continuation bytes the lead byte has 6 - k bits left for the number.
  do {
    continuation.unshift(0x80 | (rest & 0x3f));
    rest = Math.floor(rest / 64);
  } while (rest >= 1 << (6 - continuation.length));
  const lead = (0xff << (7 - continuation.length)) & 0xff;
  return Buffer.from([lead | rest, ...continuation]);
}
