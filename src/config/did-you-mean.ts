/**
 * Suggestions for misspelt flags and config-file keys: the known name at the smallest
 * edit distance (Levenshtein), when it is close enough to be a typo.
 */

/** The candidate closest to `name`, if at most 2 edits away and fewer edits than half its
 *  length plus one (so that a one-letter name is never "corrected"). */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.min(3, Math.floor(name.length / 2) + 1)
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** Levenshtein distance of `a` and `b`, two rows at a time: O(|a|·|b|) time, O(|b|) space. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
