import AdaFormats
import AdaIO
import AdaTensor
import Foundation

extension Recipe {
  /// Seconds in a duration as recipes write them: `90` (seconds), `90s`, `10m`, `1.5h`; nil
  /// unless it is a positive finite number with an optional unit `s`, `m` or `h`.
  ///
  ///     Recipe.duration("10m")   // 600
  ///     Recipe.duration("0")     // nil
  public static func duration(_ text: String) -> Double? {
    let text = text.trimmingCharacters(in: .whitespaces)
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
    let (digits, scale) = text.last.flatMap { units[$0] }.map { (String(text.dropLast()), $0) } ?? (text, 1)
    guard let x = Double(digits.trimmingCharacters(in: .whitespaces)), x.isFinite, x > 0 else { return nil }
    return x * scale
  }

  /// A duration key (`budget`, `search.time-budget`): seconds, or an error located at the key.
  static func duration(_ v: YAMLValue) throws(AdaError) -> Double {
    let text = try v.string()
    guard let seconds = duration(text) else {
      throw v.error(
        "expected a positive duration: seconds (90), or a number with s, m or h (\"90s\", \"10m\", \"1h\"), "
          + "or null for none; found '\(text.trimmingCharacters(in: .whitespaces))'")
    }
    return seconds
  }
}
