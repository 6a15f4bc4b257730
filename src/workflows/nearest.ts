/** "Did you mean" support: the candidates closest to a mistyped name. */

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Up to `limit` candidates closest to `name`: case-insensitive equality first, then candidates
 * containing it (or contained in it), then small edit distances. Far-off candidates are left out,
 * so an empty answer means "nothing close".
 */
export function nearest(name: string, candidates: readonly string[], limit = 3): string[] {
  const wanted = name.trim().toLowerCase();
  if (!wanted) return [];
  const scored: Array<{ candidate: string; score: number }> = [];
  for (const candidate of new Set(candidates)) {
    const lower = candidate.toLowerCase();
    let score: number;
    if (lower === wanted) score = 0;
    else if (lower.includes(wanted) || wanted.includes(lower)) score = 1 + Math.abs(lower.length - wanted.length) / 1000;
    else {
      const distance = editDistance(wanted, lower);
      // Allow roughly one typo per three characters, at least two.
      if (distance > Math.max(2, Math.floor(wanted.length / 3))) continue;
      score = 2 + distance;
    }
    scored.push({ candidate, score });
  }
  return scored.sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate))
    .slice(0, limit).map((s) => s.candidate);
}
