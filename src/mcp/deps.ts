import type { Observable } from 'rxjs';
import type { CallLog } from '../call-log/call-log.js';
import type { Config } from '../config.js';
import type { ComfyEngine } from '../engine-api.js';
import type { Logger } from '../logger.js';
import type { GenerateRequest } from '../generation/request.js';
import type { PreparedGeneration } from '../generation/prepare.js';
import type { TaskSupport } from './tasks/index.js';
import type { CallAdmission } from './rate-limit.js';

/** What the MCP server is built from. Everything is injected; the server holds no module state. */
export interface McpDeps {
  engine: ComfyEngine;
  config: Readonly<Config>;
  /** Writes to stderr: on stdio, stdout carries nothing but protocol. */
  logger: Logger;
  /** The process's call log (file and/or PostgreSQL); absent = calls are not logged. */
  calls?: CallLog | undefined;
  /**
   * Folders upload_image and generate_image's input_image may read, besides the working directory
   * and the output folder. Defaults to config.uploadDirs (COMFYWIRE_UPLOAD_DIRS).
   */
  uploadDirs?: readonly string[];
  /** Base of relative paths; process.cwd() when absent. */
  cwd?: string;
  /** Template → prompt; prepareGeneration unless a test replaces it. */
  // A method, so a stand-in written against the Engine class still fits (parameters are bivariant).
  prepare?(engine: ComfyEngine, request: GenerateRequest): Promise<PreparedGeneration>;
  /**
   * The rate limits of the PROCESS: made once where the engine is, and shared by every server on
   * it (each HTTP session has its own McpServer). createServer makes one when absent (stdio has one server).
   */
  admission?: CallAdmission;
}

/** What every tool gets: the deps, plus a signal that fires when the server shuts down. */
export interface ToolContext extends McpDeps {
  cwd: string;
  uploadDirs: readonly string[];
  prepare: NonNullable<McpDeps['prepare']>;
  admission: CallAdmission;
  /** Aborted by the server's cleanup: pending waits end, jobs keep running in ComfyUI. */
  closing: AbortSignal;
  /** `closing` fanned out (src/mcp/shutdown.ts): what per-call code waits on, so the signal keeps one listener. */
  shutdown$: Observable<void>;
  /** MCP Tasks (store + capability) when the server supports them; generate_image is then task-capable. */
  tasks?: TaskSupport;
}
