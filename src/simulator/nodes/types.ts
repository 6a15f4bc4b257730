/** What node implementations see and return. Values flowing on links are plain objects. */

/** One RGB image, 8 bits per channel, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** ComfyUI's IMAGE: a batch of images of the same size. */
export type ImageBatch = RgbImage[];

/** MASK: one channel, 0..255 (ComfyUI's 0..1 floats); 255 marks what is repainted. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** LATENT: pixel size / 8 like ComfyUI, plus what the fake decoder needs to paint. */
export interface Latent {
  width: number;
  height: number;
  batch: number;
  /** Set by KSampler: the texts and seed the pixels are derived from; `loras` the LoRAs on its model. */
  sampled?: { positive: string; negative: string; seed: number; steps: number; loras?: string[] };
  /** Set by VAEEncode: the source pixels, so decode(encode(x)) looks like x. */
  source?: ImageBatch;
  /** Set by VAEEncodeForInpaint / SetLatentNoiseMask: only where it is set do sampled pixels replace the source. */
  noiseMask?: Mask;
  /** Set by EmptyLatentAudio: an audio latent, `samples` per channel once decoded. */
  audio?: { samples: number };
}

/** AUDIO: ComfyUI's {"waveform": [batch, channels, samples], "sample_rate"}, floats in -1..1. */
export interface Audio {
  sampleRate: number;
  /** waveform[batch][channel] */
  waveform: Float32Array[][];
}

/** VIDEO as CreateVideo makes it (VideoFromComponents): frames not yet encoded, their rate, a soundtrack. */
export interface Video {
  kind: 'VIDEO';
  frames: ImageBatch;
  fps: number;
  audio?: Audio;
}

export interface ModelRef {
  kind: 'MODEL' | 'CLIP' | 'VAE';
  name: string;
  /** LoRAs applied by LoraLoader, in order. */
  loras?: string[];
}

/** UPSCALE_MODEL: the file and the factor its architecture upscales by. */
export interface UpscaleModelRef {
  kind: 'UPSCALE_MODEL';
  name: string;
  scale: number;
}

/** What a saver reports in `executed`: ComfyUI's FileLocator. */
export interface SavedFile {
  filename: string;
  subfolder: string;
  type: string;
}

export interface Conditioning {
  text: string;
}

export type UiOutput = Record<string, unknown[]>;

export interface NodeResult {
  outputs: unknown[];
  ui?: UiOutput;
}

export interface NodeContext {
  nodeId: string;
  promptId: string;
  /** Aborted when the simulator restarts or closes. */
  signal: AbortSignal;
  stepDelayMs: number;
  previewMethod: 'none' | 'auto';
  /**
   * ComfyUI's progress hook: throws if an interrupt is pending, then sends progress_state,
   * the preview frame(s) and progress.
   */
  progress(value: number, max: number, preview?: RgbImage): Promise<void>;
  /** Binary TEXT frame shown on the node. */
  text(text: string): void;
  /** Make `name` the loaded checkpoint: free if it already is, the host's model load time if not. */
  loadCheckpoint(name: string): Promise<void>;
  files: {
    saveImages(images: ImageBatch, prefix: string, kind: 'output' | 'temp', pngText: Record<string, string>): Promise<SavedFile[]>;
    /** Files named `<prefix>_<counter:05>_.<extension>` in output/, one per buffer, as the savers of ComfyUI do. */
    saveFiles(contents: readonly Uint8Array[], prefix: string, extension: string): Promise<SavedFile[]>;
    /** folder_paths.get_save_image_path without the naming: the folder (created) a node names its own files in. */
    saveFolder(prefix: string, kind: 'output' | 'temp'): Promise<{ dir: string; subfolder: string; filename: string }>;
    readInputImage(name: string): Promise<RgbImage>;
    readInputMask(name: string, channel: 'alpha' | 'red' | 'green' | 'blue'): Promise<Mask>;
    copyToOutput(from: string, name: string, subfolder: string): Promise<{ filename: string; subfolder: string; type: string }>;
    inputImageExists(name: string): boolean;
    inputImageHash(name: string): string;
  };
  pngText: Record<string, string>;
  /** The ffmpeg video nodes encode with (the product's lookup: COMFYWIRE_FFMPEG, PATH, the optional dependency), or undefined. */
  ffmpeg(): Promise<string | undefined>;
}

export interface NodeImpl {
  run(inputs: Record<string, unknown>, ctx: NodeContext): Promise<NodeResult>;
  /** Like IS_CHANGED: its value joins the cache signature. */
  isChanged?(inputs: Record<string, unknown>, ctx: Pick<NodeContext, 'files'>): string;
  /** Like VALIDATE_INPUTS: replaces combo/min/max checks for the named inputs. */
  validateInputs?: { inputs: string[]; check(inputs: Record<string, unknown>, ctx: Pick<NodeContext, 'files'>): true | string };
}

/** A Python exception raised by a node: `type` is what execution_error reports. */
export class NodeException extends Error {
  constructor(message: string, readonly exceptionType = 'RuntimeError') {
    super(message);
    this.name = 'NodeException';
  }
}

/** comfy.model_management.InterruptProcessingException. */
export class InterruptedException extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedException';
  }
}
