import { Command, InvalidArgumentError } from 'commander';
import { handleError } from '../handle-error.js';
import { parseApi, parseCheckpointSets, parseCustomNodes, parseInstances, parseMsList } from './simulate-lists.js';
import type { InstanceFlags } from './simulate-instances.js';

interface SimulateOptions extends InstanceFlags {
  port: number;
}

/**
 * `comfywire simulate`: the embedded ComfyUI-compatible server, for trying comfywire without a GPU;
 * with --instances N, N of them on ports in a row (a fleet of hosts for COMFYUI_URLS), each with
 * its own speed, model set and model load time.
 */
export function simulateCommand(): Command {
  return new Command('simulate')
    .description('run the embedded ComfyUI-compatible simulator (no GPU needed); --instances N for several hosts')
    .option('--port <n>', 'port of the (first) instance; the others follow in a row (0 = a free port each)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be 0..65535');
      return n;
    }, 8188)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--instances <n>', 'how many simulated ComfyUI hosts to start', parseInstances, 1)
    .option('--step-delay <ms>', 'delay per sampling step, so progress is visible; one value or one per instance (50,150)', parseMsList, [150])
    .option('--checkpoints <sets>', 'checkpoint files each instance has: names by ",", instances by ";" (a.safetensors,b.safetensors;b.safetensors)', parseCheckpointSets)
    .option('--model-load <ms>', 'extra time to load a checkpoint other than the one held; one value or one per instance', parseMsList, [0])
    .option('--api <generation>', "ComfyUI API generation to serve: 0.3.64 (no jobs API) or latest (GET /api/jobs, targeted cancel)", parseApi, '0.3.64')
    .option('--custom-nodes <packs>', 'custom node packs the instances have installed, by "," (VideoHelperSuite: VHS_VideoCombine); default none, as a bare ComfyUI', parseCustomNodes)
    .option('--previews', 'send latent preview frames like --preview-method auto')
    .option('--data-dir <path>', 'folder for input/, output/, temp/, user/ (several instances: host-1/, host-2/... in it; default: fresh temporary folders, removed when it stops)')
    .action(async (opts: SimulateOptions) => {
      try {
        const { createLogger } = await import('../../logger.js');
        const { startSimulators } = await import('../../simulator/fleet.js');
        const { instanceOptions } = await import('./simulate-instances.js');
        const { ffmpegSetting } = await import('../../config.js');
        const logger = createLogger('info');
        // The video nodes encode with the ffmpeg comfywire decodes with: COMFYWIRE_FFMPEG, PATH, the optional dependency.
        // Only that setting is read: a simulator does not need (or check) the rest of a client's configuration.
        const instances = instanceOptions({ ...opts, ffmpeg: ffmpegSetting(process.env['COMFYWIRE_FFMPEG']) }, logger);
        const fleet = await startSimulators(opts.instances, instances, { basePort: opts.port });
        for (const [i, sim] of fleet.simulators.entries()) {
          const which = opts.instances > 1 ? ` ${i + 1}/${opts.instances}` : '';
          process.stderr.write(`comfywire simulator${which} listening on ${sim.url} (data in ${sim.dataDir}); ${describe(instances[i]!)}\n`);
        }
        if (opts.instances > 1) {
          process.stderr.write(`use them with (Ctrl-C stops all):\nCOMFYUI_URLS=${fleet.urls.join(',')}\n`);
        } else {
          process.stderr.write(`use it with: COMFYUI_URL=${fleet.urls[0]} comfywire generate "a lighthouse at dusk"  (Ctrl-C to stop)\n`);
        }
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await fleet.close();
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}

function describe(o: { stepDelayMs?: number; modelLoadMs?: number; checkpoints?: readonly string[]; api?: string; customNodes?: readonly string[] }): string {
  const models = o.checkpoints ? o.checkpoints.join(', ') : 'the default checkpoints';
  const packs = o.customNodes?.length ? `, custom nodes ${o.customNodes.join(', ')}` : '';
  return `step delay ${o.stepDelayMs ?? 0} ms, model load ${o.modelLoadMs ?? 0} ms, ${models}, API ${o.api ?? '0.3.64'}${packs}`;
}
