import type { NodeInfo } from '../comfy/types.js';

/**
 * Custom node packs a simulated host may have installed (host shape `customNodes`). A real server
 * lists a pack's classes in /object_info only when the pack is installed, so these entries join
 * the simulator's /object_info only for a host that opts in.
 *
 * VideoHelperSuite's VHS_VideoCombine, transcribed from Kosinkadink/ComfyUI-VideoHelperSuite
 * videohelpersuite/nodes.py (INPUT_TYPES, RETURN_TYPES, OUTPUT_NODE, CATEGORY); `format` lists
 * the two Pillow formats and the two ffmpeg formats the simulator writes.
 */
export const VHS_FORMATS = ['image/gif', 'image/webp', 'video/h264-mp4', 'video/webm'] as const;

const VHS_VIDEO_COMBINE: NodeInfo = {
  input: {
    required: {
      images: ['IMAGE', {}],
      frame_rate: ['FLOAT', { default: 8, min: 1, step: 1 }],
      loop_count: ['INT', { default: 0, min: 0, max: 100, step: 1 }],
      filename_prefix: ['STRING', { default: 'AnimateDiff' }],
      format: [[...VHS_FORMATS], {
        formats: {
          'video/h264-mp4': [['pix_fmt', ['yuv420p', 'yuv420p10le']], ['crf', 'INT', { default: 19, min: 0, max: 100, step: 1 }], ['save_metadata', 'BOOLEAN', { default: true }], ['trim_to_audio', 'BOOLEAN', { default: false }]],
          'video/webm': [['pix_fmt', ['yuv420p', 'yuva420p']], ['crf', 'INT', { default: 20, min: 0, max: 100, step: 1 }], ['save_metadata', 'BOOLEAN', { default: true }], ['trim_to_audio', 'BOOLEAN', { default: false }]],
        },
      }],
      pingpong: ['BOOLEAN', { default: false }],
      save_output: ['BOOLEAN', { default: true }],
    },
    optional: { audio: ['AUDIO', {}], meta_batch: ['VHS_BatchManager', {}], vae: ['VAE', {}] },
    hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO', unique_id: 'UNIQUE_ID' },
  },
  input_order: {
    required: ['images', 'frame_rate', 'loop_count', 'filename_prefix', 'format', 'pingpong', 'save_output'],
    optional: ['audio', 'meta_batch', 'vae'],
    hidden: ['prompt', 'extra_pnginfo', 'unique_id'],
  },
  output: ['VHS_FILENAMES'],
  output_is_list: [false],
  output_name: ['Filenames'],
  name: 'VHS_VideoCombine',
  display_name: 'Video Combine 🎥🅥🅗🅢',
  description: '',
  python_module: 'custom_nodes.ComfyUI-VideoHelperSuite',
  category: 'Video Helper Suite 🎥🅥🅗🅢',
  output_node: true,
};

export const CUSTOM_NODE_PACKS: Readonly<Record<string, Readonly<Record<string, NodeInfo>>>> = {
  VideoHelperSuite: { VHS_VideoCombine: VHS_VIDEO_COMBINE },
};

export function isCustomNodePack(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(CUSTOM_NODE_PACKS, name);
}
