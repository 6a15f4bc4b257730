import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths of the recorded data the project ships for its tests (copied from a real ComfyUI 0.3.64). */
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const TRANSCRIPTS_DIR = join(FIXTURES_DIR, 'transcripts');

export interface TranscriptEvent {
  t_ms: number;
  source: 'ws' | 'http';
  client?: string;
  kind?: string;
  type?: string;
  data?: unknown;
  binary?: Record<string, unknown>;
  method?: string;
  path?: string;
  status?: number;
  request_body?: unknown;
  body?: unknown;
}

export interface Transcript {
  scenario: string;
  description: string;
  clients: Record<string, { clientId: string | null }>;
  summary: { ws: Record<string, string[]>; http: string[] };
  events: TranscriptEvent[];
}

export function transcriptNames(): string[] {
  return readdirSync(TRANSCRIPTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

export function loadTranscript(name: string): Transcript {
  return JSON.parse(readFileSync(join(TRANSCRIPTS_DIR, `${name}.json`), 'utf8')) as Transcript;
}

export function loadObjectInfoFixture(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'object_info.json'), 'utf8')) as Record<string, unknown>;
}
