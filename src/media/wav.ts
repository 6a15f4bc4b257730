/**
 * The facts of a WAV file from its RIFF header, read without a decoder: ComfyUI's SaveAudio
 * writes FLAC/MP3/Opus, custom nodes and the simulator write WAV, and a WAV's duration is just
 * its data size over its byte rate. Only the first bytes are needed (WAV_HEADER_BYTES).
 */

export interface WavInfo {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes of sample data (the `data` chunk's size, capped at what the file can hold). */
  dataBytes: number;
  durationS: number;
}

/** Enough for the fmt chunk and the start of data behind a few LIST/fact chunks. */
export const WAV_HEADER_BYTES = 4096;

/**
 * `head` is the file's first bytes, `fileBytes` its size (a streamed WAV may say 0 or 0xFFFFFFFF
 * in its data chunk: then the rest of the file is the data). Undefined when it is not a WAV.
 */
export function parseWavHeader(head: Uint8Array, fileBytes = head.length): WavInfo | undefined {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let fmt: Omit<WavInfo, 'dataBytes' | 'durationS'> | undefined;
  let blockAlign = 0;
  let byteRate = 0;
  for (let at = 12; at + 8 <= buf.length; ) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + 16 > buf.length) return undefined;
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
      byteRate = buf.readUInt32LE(body + 8);
      blockAlign = buf.readUInt16LE(body + 12);
    } else if (id === 'data') {
      if (!fmt || fmt.channels === 0 || fmt.sampleRate === 0) return undefined;
      const rest = Math.max(0, fileBytes - body);
      const dataBytes = size === 0 || size === 0xffffffff ? rest : Math.min(size, rest);
      const rate = byteRate || fmt.sampleRate * (blockAlign || (fmt.channels * fmt.bitsPerSample) / 8);
      return { ...fmt, dataBytes, durationS: rate > 0 ? dataBytes / rate : 0 };
    }
    // Chunks are padded to an even size.
    at = body + size + (size % 2);
  }
  return undefined;
}
