import sharp from 'sharp';
import { startSimulator } from '../../src/simulator/index.js';

const graph = (text: string, seed: number) => ({
  3: { class_type: 'KSampler', inputs: { seed, steps: 3, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
  5: { class_type: 'EmptyLatentImage', inputs: { width: 100, height: 64, batch_size: 2 } },
  6: { class_type: 'CLIPTextEncode', inputs: { text, clip: ['4', 1] } },
  7: { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
  8: { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  9: { class_type: 'SaveImage', inputs: { filename_prefix: 'sd/txt2img', images: ['8', 0] } },
});

it('renders real PNGs sized from the latent, deterministic in prompt and seed', async () => {
  const sim = await startSimulator({ stepDelayMs: 1 });
  try {
    const run = async (text: string, seed: number): Promise<Array<{ filename: string; subfolder: string }>> => {
      const { prompt_id: id } = (await (await fetch(`${sim.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: graph(text, seed) }) })).json()) as { prompt_id: string };
      for (;;) {
        const h = (await (await fetch(`${sim.url}/history/${id}`)).json()) as Record<string, { outputs: Record<string, { images: Array<{ filename: string; subfolder: string }> }> }>;
        if (h[id]) return h[id].outputs['9']!.images;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const pixels = async (img: { filename: string; subfolder: string }): Promise<Buffer> => {
      const res = await fetch(`${sim.url}/view?filename=${img.filename}&subfolder=${img.subfolder}&type=output`);
      expect(res.headers.get('content-disposition')).toBe(`filename="${img.filename}"`);
      const { data, info } = await sharp(Buffer.from(await res.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([96, 64]); // 100 -> latent 12 -> 96 px, like ComfyUI
      return data;
    };
    const first = await run('a red fox', 1);
    expect(first.map((i) => i.filename)).toEqual(['txt2img_00001_.png', 'txt2img_00002_.png']);
    expect(first[0]?.subfolder).toBe('sd');
    const other = await run('a red fox', 2);
    expect(other[0]?.filename).toBe('txt2img_00003_.png');
    expect((await pixels(first[0]!)).equals(await pixels(other[0]!))).toBe(false);
    expect((await pixels(first[0]!)).equals(await pixels(first[1]!))).toBe(false);
  } finally {
    await sim.close();
  }
});
