/** What the model is told about using the tools together (the server's `instructions`). */
export const INSTRUCTIONS = (waitS: number): string =>
  [
    'comfywire drives a ComfyUI server: it renders workflow templates and reports on jobs.',
    '1. Call list_workflows first: it names the templates and the parameters each one takes (type, default, range, choices). ' +
      'list_models shows model files (e.g. checkpoints) to use as values.',
    `2. generate_image renders one: it waits up to timeout_s (default ${waitS} s) and returns the result — every output ` +
      'file\'s absolute path on this machine, downscaled previews inline, the seed used. A longer render returns a ' +
      'prompt_id handle instead (not an error): the job keeps running and its files are still saved.',
    '3. get_workflow_status with that prompt_id follows a job (queue position, current node and step, progress) and, ' +
      'when it fails, explains why with concrete fixes. Without a prompt_id it shows the queue and recent jobs.',
    '4. cancel_job stops a running job or removes a queued one; get_queue shows what is running and waiting.',
    'Outputs are files on disk: refer to them by the returned paths. upload_image (or generate_image input_image) sends a ' +
      'local image to ComfyUI for img2img workflows. upload_workflow saves a workflow the user has (API or UI JSON) as a ' +
      'new template, checked against the server first. Errors say what to do next; follow their hints.',
  ].join('\n');
