/** One line of `comfywire doctor`: what was checked, how it went, and what to do when it did not go well. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** Present on every warn and fail: the next step, in words a person or an agent can act on. */
  fix?: string;
}

export const ok = (name: string, detail: string): DoctorCheck => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'fail', detail, fix });

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
