/**
 * Which generation of ComfyUI's HTTP API the simulator serves (docs/comfyui-api-generations.md):
 * '0.3.64' (no jobs routes: 404) or 'latest' (the jobs API of ComfyUI PR #11054 and the
 * targeted cancel of PR #14493, plus `create_time` in each prompt's extra_data).
 */
export const SIM_APIS = ['0.3.64', 'latest'] as const;
export type SimApi = (typeof SIM_APIS)[number];
export const DEFAULT_SIM_API: SimApi = '0.3.64';

export function isSimApi(value: unknown): value is SimApi {
  return typeof value === 'string' && (SIM_APIS as readonly string[]).includes(value);
}

/**
 * /features of today's ComfyUI (comfy_api/feature_flags.py, _CORE_FEATURE_FLAGS, default args):
 * none of them names the jobs API or targeted cancel; clients find those by asking the route.
 */
export const LATEST_FEATURES = {
  supports_preview_metadata: true,
  supports_model_type_tags: true,
  max_upload_size: 104857600,
  extension: { manager: { supports_v4: true } },
  node_replacements: true,
  assets: true,
} as const;
