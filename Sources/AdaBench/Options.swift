import AdaTensor

/// `--name value` pairs and `--flag`s from the command line, read by name with defaults.
/// Unknown or unused options are reported by `finish()`, so typos do not pass silently.
final class Options {
  private var values: [String: String] = [:]
  private var flags: Set<String> = []
  private var used: Set<String> = []

  /// Flags are the names in `flagNames`; every other `--name` takes the next argument.
  init(_ arguments: [String], flagNames: Set<String> = ["json", "plain-malloc"]) throws(AdaError) {
    var i = 0
    while i < arguments.count {
      let a = arguments[i]
      guard a.hasPrefix("--"), a.count > 2 else {
        throw AdaError(.invalidValue, path: a, "expected an option starting with --")
      }
      let name = String(a.dropFirst(2))
      if flagNames.contains(name) {
        flags.insert(name)
        i += 1
        continue
      }
      guard i + 1 < arguments.count else {
        throw AdaError(.invalidValue, path: a, "option needs a value")
      }
      values[name] = arguments[i + 1]
      i += 2
    }
  }

  func flag(_ name: String) -> Bool {
    used.insert(name)
    return flags.contains(name)
  }

  func string(_ name: String) -> String? {
    used.insert(name)
    return values[name]
  }

  func string(_ name: String, default value: String) -> String { string(name) ?? value }

  func int(_ name: String, default value: Int) throws(AdaError) -> Int {
    guard let s = string(name) else { return value }
    guard let v = Int(s), v > 0 else {
      throw AdaError(.invalidValue, path: "--\(name)", "expected a positive integer, found '\(s)'")
    }
    return v
  }

  func double(_ name: String, default value: Double) throws(AdaError) -> Double {
    guard let s = string(name) else { return value }
    guard let v = Double(s), v >= 0 else {
      throw AdaError(.invalidValue, path: "--\(name)", "expected a non-negative number, found '\(s)'")
    }
    return v
  }

  /// A comma-separated list of positive integers, e.g. `--threads 1,2`.
  func ints(_ name: String, default value: [Int]) throws(AdaError) -> [Int] {
    guard let s = string(name) else { return value }
    var out: [Int] = []
    for part in s.split(separator: ",") {
      guard let v = Int(part), v > 0 else {
        throw AdaError(.invalidValue, path: "--\(name)", "expected positive integers like 1,2, found '\(s)'")
      }
      out.append(v)
    }
    return out
  }

  /// Throws naming the first option no command read.
  func finish() throws(AdaError) {
    if let extra = (Set(values.keys).union(flags)).subtracting(used).sorted().first {
      throw AdaError(.invalidValue, path: "--\(extra)", "unknown option for this command")
    }
  }
}
