/**
 * The facts of a FLAC file from its STREAMINFO block, read without a decoder: ComfyUI's SaveAudio
 * ("Save Audio (FLAC)") writes FLAC, and the block that must come first after the `fLaC` marker
 * holds the sample rate and the total number of samples (RFC 9639, section 8.2).
 */

export interface FlacInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** 0 when the encoder did not know it (a stream): then the duration is unknown. */
  totalSamples: number;
  durationS: number | undefined;
}

/** The marker (4), the block header (4) and STREAMINFO (34). */
export const FLAC_HEADER_BYTES = 42;

export function parseFlacHeader(head: Uint8Array): FlacInfo | undefined {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (buf.length < FLAC_HEADER_BYTES || buf.toString('latin1', 0, 4) !== 'fLaC') return undefined;
  // Block type in the low 7 bits of the header's first byte: STREAMINFO is 0 and must be first.
  if ((buf[4]! & 0x7f) !== 0 || buf.readUIntBE(5, 3) < 34) return undefined;
  const info = 8;
  // Bytes 10..17 of STREAMINFO: sample rate (20 bits), channels - 1 (3), bits - 1 (5), total samples (36).
  const packed = buf.readBigUInt64BE(info + 10);
  const sampleRate = Number(packed >> 44n);
  const channels = Number((packed >> 41n) & 0x7n) + 1;
  const bitsPerSample = Number((packed >> 36n) & 0x1fn) + 1;
  const totalSamples = Number(packed & 0xfffffffffn);
  if (sampleRate === 0) return undefined;
  return { sampleRate, channels, bitsPerSample, totalSamples, durationS: totalSamples > 0 ? totalSamples / sampleRate : undefined };
}
