/// "Did you mean …?" for misspelt keys, operators, devices and choices in a recipe.
///
/// Closeness is the optimal-string-alignment distance (Levenshtein plus adjacent
/// transpositions, so `low-rnak` is one edit from `low-rank`), compared case-insensitively.
/// A candidate is suggested when it is at most `max(1, min(3, length / 3))` edits away, where
/// length is the longer of the two words; ties go to the earlier candidate.
///
///     Suggestion.closest(to: "widht", among: ["widths", "bits"])   // "widths"
///     Suggestion.didYouMean("low-rnak", among: ["low-rank", "fire"]) // " (did you mean 'low-rank'?)"
public enum Suggestion {
  /// The closest candidate within the typo threshold, or nil.
  public static func closest(to word: String, among candidates: [String]) -> String? {
    var best: (candidate: String, distance: Int)?
    for candidate in candidates where candidate != word {
      let d = distance(word.lowercased(), candidate.lowercased())
      let limit = max(1, min(3, max(word.count, candidate.count) / 3))
      guard d <= limit else { continue }
      if best == nil || d < best!.distance { best = (candidate, d) }
    }
    return best?.candidate
  }

  /// ` (did you mean 'x'?)` when there is a close candidate, else the empty string, so it can be
  /// spliced into a message directly.
  public static func didYouMean(_ word: String, among candidates: [String]) -> String {
    closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
  }

  /// Optimal-string-alignment edit distance: insertions, deletions, substitutions and swaps of
  /// two adjacent characters each cost 1 (no substring is edited twice).
  public static func distance(_ a: String, _ b: String) -> Int {
    let s = Array(a)
    let t = Array(b)
    if s.isEmpty { return t.count }
    if t.isEmpty { return s.count }
    // d[i][j]: distance between the first i characters of s and the first j of t.
    var d = [[Int]](repeating: [Int](repeating: 0, count: t.count + 1), count: s.count + 1)
    for i in 0...s.count { d[i][0] = i }
    for j in 0...t.count { d[0][j] = j }
    for i in 1...s.count {
      for j in 1...t.count {
        let cost = s[i - 1] == t[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
          d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        }
      }
    }
    return d[s.count][t.count]
  }
}
