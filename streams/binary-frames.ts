import { safeParse } from '../src/safe-parse.js';
import { z } from 'zod';
import type { ComfyEvent } from './messages.js';
import type { FrameReporter } from './parse-frame.js';

/**
 * ComfyUI's binary WebSocket frames (protocol §3.4). Every frame starts with a u32 big-endian
 * event type; the layout after it depends on the type. Offsets are named so that nobody reads the
 * image format from the wrong place again.
 */
export const BinaryEventType = {
  PREVIEW_IMAGE: 1,
  /** Server-internal; the server encodes it and sends PREVIEW_IMAGE. Never on the wire. */
  UNENCODED_PREVIEW_IMAGE: 2,
  TEXT: 3,
  PREVIEW_IMAGE_WITH_METADATA: 4,
} as const;

export const U32_BYTES = 4;
/** u32 BE event type, in every frame. */
export const EVENT_TYPE_OFFSET = 0;

/** PREVIEW_IMAGE: u32 BE image format, then the encoded image. */
export const IMAGE_FORMAT_OFFSET = 4;
export const PREVIEW_IMAGE_OFFSET = 8;
/** PREVIEW_IMAGE's format codes (ComfyUI sends JPEG for latent previews, PNG for SaveImageWebsocket). */
export const ImageFormat = { JPEG: 1, PNG: 2 } as const;
const MIME_BY_IMAGE_FORMAT: Record<number, string> = { [ImageFormat.JPEG]: 'image/jpeg', [ImageFormat.PNG]: 'image/png' };
/** What an image is labelled when the server names no type we know. */
export const UNKNOWN_IMAGE_MIME = 'application/octet-stream';

/** TEXT: u32 BE node id length n, n bytes UTF-8 node id, rest UTF-8 text. */
export const TEXT_NODE_ID_LENGTH_OFFSET = 4;
export const TEXT_NODE_ID_OFFSET = 8;

/** PREVIEW_IMAGE_WITH_METADATA: u32 BE metadata length m, m bytes UTF-8 JSON, rest the image. */
export const METADATA_LENGTH_OFFSET = 4;
export const METADATA_OFFSET = 8;

/** The type-4 metadata object; lenient, as newer servers may add fields. */
const PreviewMetadataSchema = z.looseObject({
  node_id: z.string().optional(),
  prompt_id: z.string().optional(),
  display_node_id: z.string().optional(),
  parent_node_id: z.string().nullable().optional(),
  real_node_id: z.string().optional(),
  image_type: z.string().optional(),
});

const utf8 = new TextDecoder('utf-8');
const ignore: FrameReporter = () => {};

/**
 * One binary frame -> `preview` (types 1 and 4) or `progress_text` (type 3) event.
 * Unknown types, truncated frames and bad metadata are reported and return undefined; never throws.
 */
export function decodeBinaryFrame(frame: ArrayBuffer | ArrayBufferView, report: FrameReporter = ignore): ComfyEvent | undefined {
  const bytes = toBytes(frame);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Every known layout has a second u32 after the type, so 8 bytes is the shortest valid frame.
  if (bytes.byteLength < EVENT_TYPE_OFFSET + 2 * U32_BYTES) {
    report('binary frame too short for its header', { length: bytes.byteLength });
    return undefined;
  }
  const eventType = view.getUint32(EVENT_TYPE_OFFSET, false);
  switch (eventType) {
    case BinaryEventType.PREVIEW_IMAGE: {
      const format = view.getUint32(IMAGE_FORMAT_OFFSET, false);
      const mimeType = MIME_BY_IMAGE_FORMAT[format] ?? UNKNOWN_IMAGE_MIME;
      return { type: 'preview', data: { frameType: 1, mimeType, image: bytes.subarray(PREVIEW_IMAGE_OFFSET) } };
    }
    case BinaryEventType.TEXT: {
      const idLength = view.getUint32(TEXT_NODE_ID_LENGTH_OFFSET, false);
      const textStart = TEXT_NODE_ID_OFFSET + idLength;
      if (textStart > bytes.byteLength) {
        report('binary TEXT frame truncated inside its node id', { length: bytes.byteLength, nodeIdLength: idLength });
        return undefined;
      }
      const nodeId = utf8.decode(bytes.subarray(TEXT_NODE_ID_OFFSET, textStart));
      const text = utf8.decode(bytes.subarray(textStart));
      return { type: 'progress_text', data: { nodeId, text } };
    }
    case BinaryEventType.PREVIEW_IMAGE_WITH_METADATA:
      return decodePreviewWithMetadata(bytes, view, report);
    default:
      report('binary frame of unknown event type', { eventType, length: bytes.byteLength });
      return undefined;
  }
}

function decodePreviewWithMetadata(bytes: Uint8Array, view: DataView, report: FrameReporter): ComfyEvent | undefined {
  const metadataLength = view.getUint32(METADATA_LENGTH_OFFSET, false);
  const imageStart = METADATA_OFFSET + metadataLength;
  if (imageStart > bytes.byteLength) {
    report('binary preview frame truncated inside its metadata', { length: bytes.byteLength, metadataLength });
    return undefined;
  }
  const metadataText = utf8.decode(bytes.subarray(METADATA_OFFSET, imageStart));
  let metadata: z.infer<typeof PreviewMetadataSchema>;
  try {
    const parsed = safeParse(PreviewMetadataSchema, JSON.parse(metadataText));
    if (!parsed.success) {
      report('binary preview metadata does not match its schema', { metadata: metadataText.slice(0, 200) });
      return undefined;
    }
    metadata = parsed.data;
  } catch (error) {
    report('binary preview metadata is not valid JSON', { error: (error as Error).message, metadata: metadataText.slice(0, 200) });
    return undefined;
  }
  return {
    type: 'preview',
    data: {
      frameType: 4,
      mimeType: metadata.image_type ?? UNKNOWN_IMAGE_MIME,
      image: bytes.subarray(imageStart),
      promptId: metadata.prompt_id,
      nodeId: metadata.node_id,
      displayNodeId: metadata.display_node_id,
      parentNodeId: metadata.parent_node_id,
      realNodeId: metadata.real_node_id,
    },
  };
}

/**
 * A byte view over whatever the socket library handed us: `ws` gives ArrayBuffer (binaryType
 * 'arraybuffer') or Buffer, mock-socket gives ArrayBuffer. No copy: the image is a view.
 */
export function toBytes(frame: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(frame)) return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  return new Uint8Array(frame);
}

/**
 * Whether a frame payload is binary. Uses the type tag, not `instanceof`, because an ArrayBuffer
 * made in another realm (Node internals vs a test sandbox) fails `instanceof ArrayBuffer`.
 */
export function isBinaryPayload(data: unknown): data is ArrayBuffer | ArrayBufferView {
  return ArrayBuffer.isView(data) || Object.prototype.toString.call(data) === '[object ArrayBuffer]';
}
