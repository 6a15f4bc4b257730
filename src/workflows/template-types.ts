/** The shapes the template store hands out. */
import type { ApiPrompt } from '../comfy/types.js';
import type { ParameterSpec } from './parameters.js';

/** API = what the server executes; UI = what the editor saves (converted with /object_info). */
export type TemplateFormat = 'api' | 'ui';

export interface WorkflowTemplate {
  name: string;
  /** Absolute path of the template's JSON file. */
  file: string;
  format: TemplateFormat;
  description?: string;
  prompt: ApiPrompt;
  parameters: ParameterSpec[];
}

export type TemplateSummary = Omit<WorkflowTemplate, 'prompt'>;

/** A file the listing could not use, and why; the rest of the list is still returned. */
export interface TemplateProblem {
  name: string;
  file: string;
  message: string;
  hint?: string;
}

export interface TemplateListing {
  templates: TemplateSummary[];
  problems: TemplateProblem[];
}
