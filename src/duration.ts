/**
 * A span of time as a person reads it in a progress line or an error: "850 ms", "42 s",
 * "3 min 05 s", "1 h 02 min". Whole units only; renders run from seconds to hours.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'an unknown time';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const totalS = Math.floor(ms / 1_000);
  if (totalS < 60) return `${totalS} s`;
  const totalMin = Math.floor(totalS / 60);
  if (totalMin < 60) return `${totalMin} min ${String(totalS % 60).padStart(2, '0')} s`;
  const h = Math.floor(totalMin / 60);
  return `${h} h ${String(totalMin % 60).padStart(2, '0')} min`;
}
