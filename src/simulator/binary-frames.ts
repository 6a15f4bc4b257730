/**
 * Binary WS frames packed the way ComfyUI packs them: a 4-byte big-endian event type, then
 * a type-specific header. Offsets are named so the client-side decoder can be tested
 * against exactly these bytes.
 */
export const BinaryEventType = { PREVIEW_IMAGE: 1, TEXT: 3, PREVIEW_IMAGE_WITH_METADATA: 4 } as const;
export const ImageFormat = { JPEG: 1, PNG: 2 } as const;

const EVENT_TYPE_BYTES = 4;
const U32_BYTES = 4;

function header(eventType: number, second: number): Buffer {
  const head = Buffer.alloc(EVENT_TYPE_BYTES + U32_BYTES);
  head.writeUInt32BE(eventType, 0);
  head.writeUInt32BE(second, EVENT_TYPE_BYTES);
  return head;
}

/** Type 1: u32 image format (1 JPEG, 2 PNG), then the encoded image. */
export function packPreviewImage(format: number, image: Buffer): Buffer {
  return Buffer.concat([header(BinaryEventType.PREVIEW_IMAGE, format), image]);
}

/** Type 3: u32 node-id length, node id (UTF-8), then the text (UTF-8). */
export function packText(nodeId: string, text: string): Buffer {
  const id = Buffer.from(nodeId, 'utf8');
  return Buffer.concat([header(BinaryEventType.TEXT, id.length), id, Buffer.from(text, 'utf8')]);
}

export interface PreviewMetadata {
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: string | null;
  real_node_id: string;
  image_type: string;
}

/**
 * Type 4: u32 metadata length, metadata JSON, then the image. Python's json.dumps puts a
 * space after ':' and ','; we do the same so the byte lengths match a real server.
 */
export function packPreviewWithMetadata(metadata: PreviewMetadata, image: Buffer): Buffer {
  const json = Buffer.from(pythonJson(metadata), 'utf8');
  return Buffer.concat([header(BinaryEventType.PREVIEW_IMAGE_WITH_METADATA, json.length), json, image]);
}

function pythonJson(obj: PreviewMetadata): string {
  return `{${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
}
