/**
 * One error hierarchy for everything comfywire reports to a person or a model.
 *
 * Every error carries a stable `code` (for programs and tests), a `hint` (what the user
 * should do next, written for a human or an agent to act on) and the underlying `cause`.
 * The CLI prints `message` + `hint`; the MCP server puts both into an `isError` result.
 */

/**
 * A request past its deadline is COMFY_UNREACHABLE with context.reason 'timeout' (src/comfy/http-errors.ts):
 * to the user it is the same problem, with its own hint. How a job ended is a JobState, not an error.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'COMFY_UNREACHABLE'
  | 'COMFY_AUTH_REFUSED'
  | 'COMFY_PROMPT_REJECTED'
  | 'COMFY_HTTP_ERROR'
  | 'COMFY_BAD_RESPONSE'
  | 'DOWNLOAD_FAILED'
  | 'UNSAFE_PATH'
  | 'WORKFLOW_NOT_FOUND'
  | 'WORKFLOW_INVALID'
  | 'WORKFLOW_EXISTS'
  | 'PARAMETER_INVALID'
  | 'JOB_NOT_FOUND'
  | 'CANCELLED'
  | 'RATE_LIMITED'
  | 'JOB_CAP_REACHED'
  | 'NO_ELIGIBLE_HOST'
  | 'CALL_LOG_UNAVAILABLE';

export interface ComfywireErrorOptions {
  cause?: unknown;
  hint?: string;
  /** Extra machine-readable facts (URL, status code, node id...) for logs and structured results. */
  context?: Record<string, unknown>;
}

export class ComfywireError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ComfywireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ComfywireError';
    this.code = code;
    this.hint = options.hint;
    this.context = options.context ?? {};
  }

  /** Message and hint together, the way a person should read them. */
  describe(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
}

export class ConfigInvalidError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ConfigInvalidError';
  }
}

export class ComfyUnreachableError extends ComfywireError {
  /** `message` replaces the generic one where more is known (HTTP answers, the socket does not). */
  constructor(url: string, options: ComfywireErrorOptions & { message?: string } = {}) {
    super('COMFY_UNREACHABLE', options.message ?? `ComfyUI is not reachable at ${url}.`, {
      hint:
        options.hint ??
        `Check that ComfyUI is running and listening there (it prints "To see the GUI go to: ..." on start), ` +
          `that COMFYUI_URL points at it (scheme, host and port), and that no firewall blocks the port. ` +
          `To try comfywire without ComfyUI, run with --simulate or start \`comfywire simulate\`.`,
      ...options,
      context: { url, ...options.context },
    });
    this.name = 'ComfyUnreachableError';
  }
}

export class ComfyAuthRefusedError extends ComfywireError {
  constructor(url: string, status: number, options: ComfywireErrorOptions = {}) {
    super('COMFY_AUTH_REFUSED', `The server at ${url} refused our credentials (HTTP ${status}).`, {
      hint:
        `ComfyUI itself has no authentication, so a reverse proxy in front of it answered. ` +
        `Set COMFYUI_AUTH_TOKEN (sent as "Authorization: Bearer ..."), COMFYUI_AUTH_BASIC ("user:password"), ` +
        `or COMFYUI_AUTH_HEADER_NAME + COMFYUI_AUTH_HEADER_VALUE to what the proxy expects.`,
      ...options,
      context: { url, status, ...options.context },
    });
    this.name = 'ComfyAuthRefusedError';
  }
}

/** One problem with one input of one node, as ComfyUI's validation reported it. */
export interface NodeInputProblem {
  nodeId: string;
  classType: string | undefined;
  inputName: string | undefined;
  type: string;
  message: string;
  details: string;
  receivedValue?: unknown;
  /** What to do about it, in words a person or an agent can act on. */
  fix?: string;
  /** Output nodes that will not run because of this problem. */
  dependentOutputs?: string[];
}

export class PromptRejectedError extends ComfywireError {
  readonly errorType: string;
  readonly problems: NodeInputProblem[];

  constructor(
    errorType: string,
    message: string,
    problems: NodeInputProblem[],
    options: ComfywireErrorOptions = {},
  ) {
    super('COMFY_PROMPT_REJECTED', message, options);
    this.name = 'PromptRejectedError';
    this.errorType = errorType;
    this.problems = problems;
  }
}

export class ComfyHttpError extends ComfywireError {
  readonly status: number;
  readonly body: string;

  constructor(method: string, url: string, status: number, body: string, options: ComfywireErrorOptions = {}) {
    super('COMFY_HTTP_ERROR', `${method} ${url} answered HTTP ${status}${body ? `: ${body.slice(0, 300)}` : ''}`, {
      ...options,
      context: { method, url, status, ...options.context },
    });
    this.name = 'ComfyHttpError';
    this.status = status;
    this.body = body;
  }
}

export class ComfyBadResponseError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('COMFY_BAD_RESPONSE', message, {
      hint: 'The server answered in a shape ComfyUI does not use. Check that COMFYUI_URL points at ComfyUI and not at another service.',
      ...options,
    });
    this.name = 'ComfyBadResponseError';
  }
}

export class DownloadFailedError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('DOWNLOAD_FAILED', message, options);
    this.name = 'DownloadFailedError';
  }
}

export class UnsafePathError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('UNSAFE_PATH', message, options);
    this.name = 'UnsafePathError';
  }
}

export class WorkflowNotFoundError extends ComfywireError {
  constructor(name: string, available: string[], options: ComfywireErrorOptions = {}) {
    super('WORKFLOW_NOT_FOUND', `No workflow template named "${name}".`, {
      hint: available.length
        ? `Available templates: ${available.join(', ')}. Call list_workflows (or \`comfywire generate --list\`) for their parameters.`
        : 'The workflows folder has no templates. Put API-format (or UI-format) JSON files in it, or set COMFYWIRE_WORKFLOWS_DIR.',
      ...options,
      context: { name, available, ...options.context },
    });
    this.name = 'WorkflowNotFoundError';
  }
}

export class WorkflowInvalidError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('WORKFLOW_INVALID', message, options);
    this.name = 'WorkflowInvalidError';
  }
}

/** upload_workflow would replace a template and was not asked to (overwrite: true). */
export class WorkflowExistsError extends ComfywireError {
  constructor(name: string, file: string, options: ComfywireErrorOptions = {}) {
    super('WORKFLOW_EXISTS', `A workflow template named "${name}" already exists (${file}); nothing was saved.`, {
      hint: 'Pass overwrite: true to replace it (its sidecar too), or choose another name. list_workflows shows the names in use.',
      ...options,
      context: { name, file, ...options.context },
    });
    this.name = 'WorkflowExistsError';
  }
}

export class ParameterInvalidError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('PARAMETER_INVALID', message, options);
    this.name = 'ParameterInvalidError';
  }
}

export class JobNotFoundError extends ComfywireError {
  constructor(promptId: string, options: ComfywireErrorOptions = {}) {
    super('JOB_NOT_FOUND', `No job with prompt_id ${promptId} is known to this server or to ComfyUI.`, {
      hint: 'Check the id (get_queue lists running and pending jobs, get_workflow_status without an id lists recent ones). ComfyUI forgets its history when it restarts.',
      ...options,
      context: { promptId, ...options.context },
    });
    this.name = 'JobNotFoundError';
  }
}

export class CancelledError extends ComfywireError {
  constructor(message = 'The operation was cancelled.', options: ComfywireErrorOptions = {}) {
    super('CANCELLED', message, options);
    this.name = 'CancelledError';
  }
}

/** A call refused by a rate limit (src/mcp/rate-limit.ts); context.retryAfterMs says when one is admitted again. */
export class RateLimitedError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('RATE_LIMITED', message, options);
    this.name = 'RateLimitedError';
  }
}

/** A generation refused because this process already has its cap of jobs in ComfyUI (src/jobs/job-cap.ts). */
export class JobCapReachedError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('JOB_CAP_REACHED', message, options);
    this.name = 'JobCapReachedError';
  }
}

/** No configured host can run the prompt (down, lacking a node class or model, not tagged), or the pinned one is unknown. */
export class NoEligibleHostError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('NO_ELIGIBLE_HOST', message, {
      hint:
        options.hint ??
        'Start or reach a host that has what the workflow needs (install the node or model there), drop the host or tags ' +
          'you asked for, or see every host with get_system_stats / `comfywire doctor`.',
      ...options,
    });
    this.name = 'NoEligibleHostError';
  }
}

/** `comfywire logs` could not read the call log (database down, log off). */
export class CallLogUnavailableError extends ComfywireError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super('CALL_LOG_UNAVAILABLE', message, options);
    this.name = 'CallLogUnavailableError';
  }
}

export function isComfywireError(value: unknown): value is ComfywireError {
  return value instanceof ComfywireError;
}

/** Best human-readable text for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof ComfywireError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}
