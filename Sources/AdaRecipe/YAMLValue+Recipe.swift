import AdaFormats
import AdaIO
import AdaTensor
import Foundation

/// Typed reads for recipe sections, on top of AdaIO's located `YAMLValue`. Every error names
/// the recipe file, the line and the key path (`supernet.widths[2]`), and says what was expected
/// and what was found. A key given as `null` counts as absent, so it takes its default.
extension YAMLValue {
  /// Throws unless this node is a mapping whose keys are all in `allowed` (in schema order).
  /// An unknown key is named, with the closest allowed key when it looks like a typo.
  func checkRecipeSection(_ allowed: [String]) throws(AdaError) {
    guard exists else { return }
    guard node?.mapping != nil else {
      throw expected("a mapping with keys \(allowed.joined(separator: ", "))")
    }
    for key in keys where !allowed.contains(key) {
      throw self[key].error(
        "unknown key '\(key)'\(Suggestion.didYouMean(key, among: allowed)); "
          + "allowed here: \(allowed.joined(separator: ", "))")
    }
  }

  /// "expected …, found …" located at this node.
  func expected(_ what: String) -> AdaError {
    error("expected \(what), found \(foundDescription)")
  }

  /// How the node reads to a user: `'text'` for a scalar, else its shape.
  var foundDescription: String {
    if let s = node?.scalar?.string { return "'\(s)'" }
    if node?.sequence != nil { return "a list" }
    if node?.mapping != nil { return "a mapping" }
    return "nothing"
  }

  /// True when the node is a plain scalar equal to `word` (e.g. `auto`).
  func isWord(_ word: String) -> Bool { node?.scalar?.string == word }

  /// Runs `body`, moving an error it throws to this node (kind, message and hint kept), for
  /// checks done by other modules that do not know where in the recipe the value came from.
  func locating<T>(_ body: () throws(AdaError) -> T) throws(AdaError) -> T {
    do {
      return try body()
    } catch {
      var e = self.error(error.description, kind: error.kind)
      e.hint = error.hint
      throw e
    }
  }

  // MARK: Numbers with ranges

  /// An integer ≥ `minimum`, or `defaultValue` when absent.
  func int(atLeast minimum: Int, default defaultValue: Int) throws(AdaError) -> Int {
    guard exists else { return defaultValue }
    return try int(atLeast: minimum)
  }

  func int(atLeast minimum: Int) throws(AdaError) -> Int {
    let n = try int()
    guard n >= minimum else { throw error("expected an integer ≥ \(minimum), found \(n)") }
    return n
  }

  /// An optional integer ≥ `minimum` (`nil` when absent or `null`).
  func optionalInt(atLeast minimum: Int) throws(AdaError) -> Int? {
    exists ? try int(atLeast: minimum) : nil
  }

  /// A seed: an integer ≥ 0.
  func seed(default defaultValue: UInt64 = 0) throws(AdaError) -> UInt64 {
    guard exists else { return defaultValue }
    return UInt64(try int(atLeast: 0))
  }

  /// A finite number for which `valid` holds; `range` describes it in the error ("(0, 1]").
  func number(in range: String, _ valid: (Double) -> Bool) throws(AdaError) -> Double {
    let x = try double()
    guard x.isFinite, valid(x) else { throw error("expected a number in \(range), found \(format(x))") }
    return x
  }

  func number(in range: String, default defaultValue: Double, _ valid: (Double) -> Bool)
    throws(AdaError) -> Double
  {
    exists ? try number(in: range, valid) : defaultValue
  }

  func optionalNumber(in range: String, _ valid: (Double) -> Bool) throws(AdaError) -> Double? {
    exists ? try number(in: range, valid) : nil
  }

  // MARK: Strings and lists

  /// A string from a closed set; an unknown one is named with a did-you-mean and the choices.
  func choice(_ allowed: [String], default defaultValue: String? = nil) throws(AdaError) -> String {
    if !exists, let defaultValue { return defaultValue }
    let s = try string()
    guard allowed.contains(s) else {
      throw error(
        "unknown value '\(s)'\(Suggestion.didYouMean(s, among: allowed)); "
          + "expected one of: \(allowed.joined(separator: ", "))")
    }
    return s
  }

  /// A non-empty string.
  func nonEmptyString() throws(AdaError) -> String {
    let s = try string()
    guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw error("expected a non-empty string") }
    return s
  }

  /// A list (a single scalar is not accepted: `[a]`, not `a`); each element checked by `element`.
  func list<T>(_ element: (YAMLValue) throws(AdaError) -> T) throws(AdaError) -> [T] {
    guard node?.sequence != nil else { throw expected("a list") }
    var out: [T] = []
    for item in try array() { out.append(try element(item)) }
    return out
  }

  /// A list of distinct non-empty strings; the second occurrence of a duplicate is the error.
  func distinctStrings() throws(AdaError) -> [String] {
    let items = try list { v throws(AdaError) in v }
    var seen = Set<String>()
    var out: [String] = []
    for item in items {
      let s = try item.nonEmptyString()
      guard seen.insert(s).inserted else { throw item.error("'\(s)' is listed twice") }
      out.append(s)
    }
    return out
  }
}

/// `0.5`, `1`, `1e-05`: numbers in messages without float noise.
func format(_ x: Double) -> String {
  x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
}
