import { Command, InvalidArgumentError } from 'commander';
import { handleError } from '../handle-error.js';

/** `comfywire simulate`: the embedded ComfyUI-compatible server, for trying comfywire without a GPU. */
export function simulateCommand(): Command {
  return new Command('simulate')
    .description('run the embedded ComfyUI-compatible simulator (no GPU needed)')
    .option('--port <n>', 'port to listen on (0 = any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be 0..65535');
      return n;
    }, 8188)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--step-delay <ms>', 'delay per sampling step, so progress is visible', (v) => Number(v), 150)
    .option('--previews', 'send latent preview frames like --preview-method auto')
    .option('--data-dir <path>', 'folder for input/, output/, temp/, user/ (default: a fresh temporary folder)')
    .action(async (opts: { port: number; host: string; stepDelay: number; previews?: boolean; dataDir?: string }) => {
      try {
        const { createLogger } = await import('../../logger.js');
        const { startSimulator } = await import('../../simulator/index.js');
        const logger = createLogger('info');
        const sim = await startSimulator({
          port: opts.port,
          host: opts.host,
          stepDelayMs: opts.stepDelay,
          previewMethod: opts.previews ? 'auto' : 'none',
          ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
          logger,
        });
        process.stderr.write(`comfywire simulator listening on ${sim.url} (data in ${sim.dataDir}); Ctrl-C to stop\n`);
        process.stderr.write(`use it with: COMFYUI_URL=${sim.url} comfywire generate "a lighthouse at dusk"\n`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await sim.close();
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}
