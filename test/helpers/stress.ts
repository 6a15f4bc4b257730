/**
 * Counts for the heavy suites (load, faults, fuzzing, soak). CI runs the counts each suite names
 * as its CI figure, sized to keep the whole suite within a few minutes on two cores; a longer
 * local run sets COMFYWIRE_STRESS=full for the full counts, or a number to multiply the
 * CI counts by (COMFYWIRE_STRESS=3 runs three times as many).
 */
export function stressCount(ci: number, full: number): number {
  const raw = process.env.COMFYWIRE_STRESS?.trim();
  if (!raw) return ci;
  if (raw === 'full') return full;
  const factor = Number(raw);
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new Error(`COMFYWIRE_STRESS must be 'full' or a positive number, not ${JSON.stringify(raw.slice(0, 20))}`);
  }
  return Math.max(1, Math.round(ci * factor));
}

/** Which counts this run uses, for a suite's test names ("200 calls × 10 (CI counts)"). */
export function stressLabel(): string {
  const raw = process.env.COMFYWIRE_STRESS?.trim();
  return !raw ? 'CI counts' : raw === 'full' ? 'full counts' : `CI counts × ${raw}`;
}
