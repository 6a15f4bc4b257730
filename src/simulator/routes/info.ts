import { HttpError, sendJson } from '../http-util.js';
import { SERVER_FEATURES } from '../ws-hub.js';
import { LATEST_FEATURES } from '../api-generation.js';
import type { Route } from './route.js';

/** Model folder keys in the order a real 0.3.64 lists them. */
export const MODEL_FOLDERS = [
  'checkpoints', 'configs', 'loras', 'vae', 'text_encoders', 'diffusion_models', 'clip_vision', 'style_models',
  'embeddings', 'diffusers', 'vae_approx', 'controlnet', 'gligen', 'upscale_models', 'custom_nodes',
  'hypernetworks', 'photomaker', 'classifiers', 'model_patches', 'audio_encoders',
];

const GIB = 1024 ** 3;

/** Read-only server information routes. */
export const infoRoutes: Route[] = [
  { method: 'GET', path: /^\/object_info$/, handle: ({ res, ctx }) => sendJson(res, 200, ctx.objectInfo()) },
  {
    method: 'GET',
    path: /^\/object_info\/([^/]+)$/,
    handle({ res, params, ctx }) {
      const cls = params[0] as string;
      const info = ctx.objectInfo()[cls];
      sendJson(res, 200, info ? { [cls]: info } : {});
    },
  },
  { method: 'GET', path: /^\/features$/, handle: ({ res, ctx }) => sendJson(res, 200, ctx.api === 'latest' ? { ...LATEST_FEATURES } : { ...SERVER_FEATURES }) },
  {
    method: 'GET',
    path: /^\/system_stats$/,
    handle: ({ res }) => sendJson(res, 200, {
      system: {
        os: 'posix', ram_total: 32 * GIB, ram_free: 24 * GIB, comfyui_version: '0.3.64', required_frontend_version: '1.27.10',
        installed_templates_version: null, required_templates_version: '0.1.95', python_version: '3.11.2 (comfywire simulator)',
        pytorch_version: '2.8.0+simulated', embedded_python: false, argv: ['main.py', '--comfywire-simulator'],
      },
      devices: [{ name: 'simulated', type: 'cpu', index: null, vram_total: 8 * GIB, vram_free: 8 * GIB, torch_vram_total: 8 * GIB, torch_vram_free: 8 * GIB }],
    }),
  },
  { method: 'GET', path: /^\/models$/, handle: ({ res }) => sendJson(res, 200, MODEL_FOLDERS) },
  {
    method: 'GET',
    path: /^\/models\/([^/]+)$/,
    handle({ res, params, ctx }) {
      const folder = params[0] as string;
      if (!MODEL_FOLDERS.includes(folder)) throw new HttpError(404);
      sendJson(res, 200, [...(ctx.modelFolders[folder] ?? [])]);
    },
  },
  { method: 'GET', path: /^\/embeddings$/, handle: ({ res }) => sendJson(res, 200, []) },
  { method: 'GET', path: /^\/extensions$/, handle: ({ res }) => sendJson(res, 200, []) },
];
