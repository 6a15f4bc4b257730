/** Public surface of the workflow layer. */
export { listTemplates, listTemplateNames, loadTemplate } from './template-store.js';
export type { TemplateOptions } from './template-store.js';
export type { TemplateFormat, TemplateListing, TemplateProblem, TemplateSummary, WorkflowTemplate } from './template-types.js';
export { convertUiToApi } from './ui-to-api.js';
export type { UiConversion } from './ui-to-api.js';
export { detectParameters } from './detect-parameters.js';
export { applyParameters } from './apply-parameters.js';
export type { AppliedParameters, ApplyOptions } from './apply-parameters.js';
export { MAX_SAFE_SEED, nearest, parseTemplateMeta, templateMetaSchema } from './parameters.js';
export type { ParameterSpec, ParameterTarget, ParameterType, TemplateMeta } from './parameters.js';
