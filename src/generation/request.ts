/**
 * What a caller asks to generate: the common knobs by name, plus `params` for anything else the
 * template declares. The CLI `generate` command and the MCP `generate_image` tool both build one.
 */
export interface GenerateRequest {
  /** Template name in the workflows folder; the configured default when absent. */
  workflow?: string;
  prompt?: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  cfg?: number;
  width?: number;
  height?: number;
  batchSize?: number;
  sampler?: string;
  scheduler?: string;
  checkpoint?: string;
  denoise?: number;
  /** A local image file: uploaded to ComfyUI's input folder first, then fed to the template's image input. */
  inputImage?: string;
  /** Values for other parameters the template declares, by parameter name. */
  params?: Record<string, unknown>;
}

/** The request's named knobs under the template parameter names they map to. */
export function requestValues(req: GenerateRequest): Record<string, unknown> {
  const named: Record<string, unknown> = {
    prompt: req.prompt,
    negative_prompt: req.negativePrompt,
    seed: req.seed,
    steps: req.steps,
    cfg: req.cfg,
    width: req.width,
    height: req.height,
    batch_size: req.batchSize,
    sampler: req.sampler,
    scheduler: req.scheduler,
    checkpoint: req.checkpoint,
    denoise: req.denoise,
  };
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries({ ...named, ...(req.params ?? {}) })) if (v !== undefined) values[k] = v;
  return values;
}
