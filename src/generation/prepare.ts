import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ComfyEngine } from '../engine-api.js';
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import { ParameterInvalidError } from '../errors.js';
import { loadTemplate } from '../workflows/template-store.js';
import { applyParameters } from '../workflows/apply-parameters.js';
import type { ParameterSpec } from '../workflows/parameters.js';
import { requestValues, type GenerateRequest } from './request.js';
import { own } from '../input-policy/index.js';

/**
 * Turns a GenerateRequest into a prompt ComfyUI will accept: load the template, upload the input
 * image, pick a checkpoint the server has, inject and validate every value before submission.
 */
export interface PreparedGeneration {
  templateName: string;
  prompt: ApiPrompt;
  /** Effective parameter values, the drawn seed included. */
  values: Record<string, unknown>;
  seed?: number;
  /** Things the caller should be told (a substituted checkpoint, an uploaded image's name...). */
  notes: string[];
}

export async function prepareGeneration(engine: ComfyEngine, request: GenerateRequest): Promise<PreparedGeneration> {
  const name = request.workflow ?? engine.config.defaultWorkflow;
  const objectInfo = await engine.objectInfo();
  const template = await loadTemplate(engine.config.workflowsDir, name, { objectInfo });
  const values = requestValues(request);
  const notes: string[] = [];

  if (request.input_image !== undefined) {
    const param = template.parameters.find((p) => p.type === 'image');
    if (!param) {
      throw new ParameterInvalidError(`Workflow "${template.name}" takes no input image.`, {
        hint: 'Use a workflow with a LoadImage node (e.g. sd15-img2img), or drop input_image.',
      });
    }
    const path = resolve(request.input_image);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new ParameterInvalidError(`input_image ${path} is not a readable file.`, {
        hint: 'Give the path of an existing PNG/JPEG/WebP file on this machine.',
      });
    }
    const uploaded = await engine.comfy.uploadImage({ path }, { type: 'input', subfolder: 'comfywire' });
    values[param.name] = uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
    notes.push(`Uploaded ${path} to ComfyUI's input folder as ${String(values[param.name])}.`);
  }

  const checkpoint = template.parameters.find((p) => p.name === 'checkpoint');
  if (checkpoint && typeof values['checkpoint'] === 'string') {
    // Model names carry the server's path separator: "sd15/x.safetensors" on Linux is
    // "sd15\\x.safetensors" on a Windows ComfyUI. Accept either spelling.
    const same = sameModel(values['checkpoint'], checkpointChoices(checkpoint, objectInfo, template.prompt) ?? []);
    if (same) values['checkpoint'] = same;
  }
  if (checkpoint && values['checkpoint'] === undefined) {
    const substitute = substituteCheckpoint(checkpoint, objectInfo, template.prompt);
    if (substitute) {
      values['checkpoint'] = substitute.value;
      notes.push(substitute.note);
    }
  }

  const applied = applyParameters(template, values, { objectInfo });
  const prepared: PreparedGeneration = { templateName: template.name, prompt: applied.prompt, values: applied.values, notes };
  const seed = applied.values['seed'];
  if (typeof seed === 'number') prepared.seed = seed;
  return prepared;
}

/**
 * Templates name the usual SD 1.5 checkpoint, but servers name theirs as they like. When the
 * caller did not choose one and the template's default is not installed, use what the server has
 * rather than fail with a 400, and say so. An explicit choice is never replaced.
 */
function substituteCheckpoint(
  param: ParameterSpec,
  objectInfo: ObjectInfo,
  prompt: ApiPrompt,
): { value: string; note: string } | undefined {
  const choices = checkpointChoices(param, objectInfo, prompt);
  if (!choices) return undefined;
  const target = param.targets[0]!;
  const current = prompt[target.nodeId]?.inputs[target.input];
  if (typeof current === 'string' && choices.includes(current)) return undefined;
  if (choices.length === 0) {
    throw new ParameterInvalidError('ComfyUI has no checkpoint installed.', {
      hint: "Put a .safetensors checkpoint in ComfyUI's models/checkpoints folder (an SD 1.5 model for the sd15 templates) and try again.",
    });
  }
  const preferred = choices.find((c) => /(^|[\\/_-])(v1-5|sd15|sd-?1\.?5)/i.test(c)) ?? choices[0]!;
  return {
    value: preferred,
    note: `Checkpoint ${String(current)} is not installed on this ComfyUI; using ${preferred} instead (pass checkpoint to choose).`,
  };
}

/** The checkpoint names the server offers for the parameter's input (its combo list). */
function checkpointChoices(param: ParameterSpec, objectInfo: ObjectInfo, prompt: ApiPrompt): string[] | undefined {
  const target = param.targets[0];
  if (!target) return undefined;
  const node = prompt[target.nodeId];
  const required = node ? own(objectInfo, node.class_type)?.input.required : undefined;
  const spec = own(required, target.input);
  return spec && Array.isArray(spec[0]) ? (spec[0] as unknown[]).filter((c): c is string => typeof c === 'string') : undefined;
}

/** The server's spelling of a model name given with the other path separator, if any. */
export function sameModel(name: string, choices: readonly string[]): string | undefined {
  if (choices.includes(name)) return undefined;
  const norm = (s: string) => s.replace(/\\/g, '/');
  return choices.find((c) => norm(c) === norm(name));
}
