import { describe, expect, it, jest } from '@jest/globals';
import {
  BinaryEventType, ImageFormat, UNKNOWN_IMAGE_MIME, decodeBinaryFrame, isBinaryPayload,
} from '../../streams/binary-frames.js';
import type { FrameReporter } from '../../streams/parse-frame.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { loadTranscript } from '../helpers/fixtures.js';

/*
 * Frames are packed here the way ComfyUI's server.py packs them: struct.pack(">I", event_type)
 * followed by the payload; the payload of a preview is struct.pack(">I", format) + image bytes,
 * of a TEXT frame struct.pack(">I", len(node_id)) + node_id + text, and of a preview with
 * metadata struct.pack(">I", len(metadata_json)) + metadata_json + image, where metadata_json
 * is Python's json.dumps (", " and ": " separators).
 */
function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value, 0);
  return b;
}
function packPreview(format: number, image: Buffer): Buffer {
  return Buffer.concat([u32(BinaryEventType.PREVIEW_IMAGE), u32(format), image]);
}
function packText(nodeId: string, text: string): Buffer {
  const id = Buffer.from(nodeId, 'utf8');
  return Buffer.concat([u32(BinaryEventType.TEXT), u32(id.length), id, Buffer.from(text, 'utf8')]);
}
function packPreviewWithMetadata(metadata: Record<string, unknown>, image: Buffer): Buffer {
  const json = Buffer.from(pythonJsonDumps(metadata), 'utf8');
  return Buffer.concat([u32(BinaryEventType.PREVIEW_IMAGE_WITH_METADATA), u32(json.length), json, image]);
}
function pythonJsonDumps(flat: Record<string, unknown>): string {
  return `{${Object.entries(flat).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
}

/** The first bytes of the JPEG previews ComfyUI sent in the recordings (from head_hex). */
const JPEG_HEAD = Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb004300020101010101020101010202020202', 'hex');
const PNG_HEAD = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

interface RecordedBinary {
  event_type: number;
  head_hex: string;
  length: number;
  node_id?: string;
  text?: string;
  bytes4_7: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}
function recordedFrames(scenario: string): RecordedBinary[] {
  return loadTranscript(scenario)
    .events.filter((e) => e.source === 'ws' && e.kind === 'binary')
    .map((e) => e.binary as unknown as RecordedBinary);
}

function preview(event: ComfyEvent | undefined) {
  if (event?.type !== 'preview') throw new Error(`expected a preview, got ${event?.type}`);
  return event.data;
}

describe('decodeBinaryFrame', () => {
  it('packs type-1 frames byte for byte like the recorded server, and decodes them', () => {
    const recorded = recordedFrames('c2_progress_previews_legacy').filter((f) => f.event_type === 1);
    expect(recorded.length).toBeGreaterThan(0);
    for (const frame of recorded) {
      const packed = packPreview(ImageFormat.JPEG, JPEG_HEAD);
      expect(packed.toString('hex')).toBe(frame.head_hex.slice(0, packed.length * 2));
      const data = preview(decodeBinaryFrame(packed));
      expect(data).toMatchObject({ frameType: 1, mimeType: 'image/jpeg' });
      expect(Buffer.from(data.image).equals(JPEG_HEAD)).toBe(true);
      expect(data.promptId).toBeUndefined();
    }
  });

  it('reads the image format from bytes 4-7 (PNG from SaveImageWebsocket)', () => {
    const data = preview(decodeBinaryFrame(packPreview(ImageFormat.PNG, PNG_HEAD)));
    expect(data.mimeType).toBe('image/png');
    expect(Buffer.from(data.image).equals(PNG_HEAD)).toBe(true);
  });

  it('labels an unknown image format instead of guessing', () => {
    expect(preview(decodeBinaryFrame(packPreview(9, PNG_HEAD))).mimeType).toBe(UNKNOWN_IMAGE_MIME);
  });

  it('decodes the recorded TEXT frames exactly as sent (head_hex holds the whole frame)', () => {
    const recorded = recordedFrames('c3_progress_previews_metadata').filter((f) => f.event_type === 3);
    expect(recorded.length).toBeGreaterThan(0);
    for (const frame of recorded) {
      const bytes = Buffer.from(frame.head_hex, 'hex');
      expect(bytes.length).toBe(frame.length);
      expect(decodeBinaryFrame(bytes)).toEqual({ type: 'progress_text', data: { nodeId: frame.node_id, text: frame.text } });
      expect(packText(frame.node_id!, frame.text!).equals(bytes)).toBe(true);
    }
  });

  it('decodes multi-byte UTF-8 node ids and text', () => {
    expect(decodeBinaryFrame(packText('12:ä', 'étape 3/6 ✓'))).toEqual({
      type: 'progress_text',
      data: { nodeId: '12:ä', text: 'étape 3/6 ✓' },
    });
  });

  it('packs type-4 frames like the recorded server and decodes their attribution', () => {
    const recorded = recordedFrames('c3_progress_previews_metadata').filter((f) => f.event_type === 4);
    expect(recorded.length).toBeGreaterThan(0);
    for (const frame of recorded) {
      const metadata = frame.metadata!;
      const packed = packPreviewWithMetadata(metadata, JPEG_HEAD);
      expect(packed.readUInt32BE(4)).toBe(frame.bytes4_7['metadata_json_length']);
      expect(packed.toString('hex').slice(0, frame.head_hex.length)).toBe(frame.head_hex);
      const data = preview(decodeBinaryFrame(packed));
      expect(data).toMatchObject({
        frameType: 4,
        mimeType: 'image/jpeg',
        promptId: metadata['prompt_id'],
        nodeId: '1',
        displayNodeId: '1',
        parentNodeId: null,
        realNodeId: '1',
      });
      expect(Buffer.from(data.image).equals(JPEG_HEAD)).toBe(true);
    }
  });

  it('accepts ArrayBuffer, Buffer and a view into a larger buffer alike', () => {
    const packed = packText('7', 'hello');
    const arrayBuffer = packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.length) as ArrayBuffer;
    const padded = Buffer.concat([Buffer.from('xxxx'), packed]).subarray(4);
    for (const input of [packed, arrayBuffer, new Uint8Array(padded), padded]) {
      expect(isBinaryPayload(input)).toBe(true);
      expect(decodeBinaryFrame(input)).toEqual({ type: 'progress_text', data: { nodeId: '7', text: 'hello' } });
    }
    expect(isBinaryPayload('text')).toBe(false);
  });

  it.each([
    ['shorter than a header', Buffer.from([0, 0, 0])],
    ['type only', u32(1)],
    ['unknown event type', Buffer.concat([u32(7), u32(0), Buffer.from('x')])],
    ['unencoded preview (never on the wire)', Buffer.concat([u32(2), u32(0)])],
    ['TEXT cut inside the node id', Buffer.concat([u32(3), u32(10), Buffer.from('12')])],
    ['metadata cut short', Buffer.concat([u32(4), u32(166), Buffer.from('{"node_id": ')])],
    ['metadata not JSON', Buffer.concat([u32(4), u32(3), Buffer.from('{x}'), JPEG_HEAD])],
    ['metadata of the wrong shape', Buffer.concat([u32(4), u32(17), Buffer.from('{"prompt_id": 42}'), JPEG_HEAD])],
  ])('drops a bad frame (%s), reports it and does not throw', (_label, frame) => {
    const report = jest.fn<FrameReporter>();
    expect(decodeBinaryFrame(frame, report)).toBeUndefined();
    expect(report).toHaveBeenCalledTimes(1);
  });

  it('reports the recorded type-4 head (cut by the recorder) as truncated', () => {
    const [frame] = recordedFrames('c3_progress_previews_metadata').filter((f) => f.event_type === 4);
    const report = jest.fn<FrameReporter>();
    expect(decodeBinaryFrame(Buffer.from(frame!.head_hex, 'hex'), report)).toBeUndefined();
    expect(report.mock.calls[0]![0]).toMatch(/truncated/);
  });
});
