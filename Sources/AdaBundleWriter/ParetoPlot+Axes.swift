import Foundation

extension ParetoPlot {
  /// A plot axis: data range `lo…hi` mapped onto pixels `from…to` (`to` may be smaller, for
  /// the y axis growing upward), linear or base-10 logarithmic.
  struct Axis {
    var lo: Double
    var hi: Double
    var logarithmic: Bool
    var from: Double
    var to: Double

    /// Pixel position of `value`.
    func position(_ value: Double) -> Double {
      let t =
        logarithmic
        ? (log10(value) - log10(lo)) / (log10(hi) - log10(lo))
        : (value - lo) / (hi - lo)
      return from + t * (to - from)
    }

    /// Tick values inside `lo…hi`: 1, 2, 5 × 10^k on a log axis; multiples of a 1-2-5 step
    /// giving about five ticks on a linear one.
    var ticks: [Double] {
      if logarithmic {
        // 1-2-5 per decade; 1-1.5-2-3-5-7 when that gives fewer than four (a short span).
        for mantissas in [[1.0, 2, 5], [1.0, 1.5, 2, 3, 5, 7]] {
          var ticks: [Double] = []
          for k in Int(floor(log10(lo)))...Int(ceil(log10(hi))) {
            for m in mantissas {
              let v = m * pow(10, Double(k))
              if v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) { ticks.append(v) }
            }
          }
          if ticks.count >= 4 || mantissas.count > 3 { return ticks }
        }
        return []
      }
      let step = Self.niceStep((hi - lo) / 5)
      var ticks: [Double] = []
      var v = (lo / step).rounded(.up) * step
      while v <= hi + step * 1e-9 {
        ticks.append(abs(v) < step * 1e-9 ? 0 : v)
        v += step
      }
      return ticks
    }

    /// Tick label: as many decimals as the tick spacing needs, none for whole numbers.
    func label(_ value: Double) -> String {
      guard !logarithmic else {
        // Shortest of up to six decimals that shows the value (0.15, 1.5, 20).
        for decimals in 0...6 {
          let text = String(format: "%.\(decimals)f", value)
          if abs((Double(text) ?? 0) - value) <= value * 1e-9 { return text }
        }
        return String(format: "%g", value)
      }
      let decimals = max(0, min(6, -Int(floor(log10(Self.niceStep((hi - lo) / 5)) + 1e-9))))
      return String(format: "%.\(decimals)f", value)
    }

    /// The smallest 1, 2 or 5 × 10^k at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
      guard raw > 0 && raw.isFinite else { return 1 }
      let base = pow(10, floor(log10(raw)))
      for m in [1.0, 2, 5, 10] where m * base >= raw * (1 - 1e-9) { return m * base }
      return 10 * base
    }

    /// An axis covering `values` with a margin: logarithmic when every value is positive and
    /// the largest is more than `logSpan` times the smallest (the margin is then a factor).
    static func covering(
      _ values: [Double], from: Double, to: Double, allowLog: Bool, logSpan: Double = 4
    ) -> Axis {
      guard let minimum = values.min(), let maximum = values.max() else {
        return Axis(lo: 0, hi: 1, logarithmic: false, from: from, to: to)
      }
      if allowLog && minimum > 0 && maximum / minimum > logSpan {
        return Axis(lo: minimum / 1.3, hi: maximum * 1.3, logarithmic: true, from: from, to: to)
      }
      let span = maximum - minimum
      let pad = span > 0 ? span * 0.08 : max(abs(maximum) * 0.1, 1e-3)
      var lo = minimum - pad
      if minimum >= 0 && lo < 0 { lo = 0 }
      return Axis(lo: lo, hi: maximum + pad, logarithmic: false, from: from, to: to)
    }
  }

  /// `text` escaped for SVG text and attribute values (`XMLText.escape`).
  static func escape(_ text: String) -> String { XMLText.escape(text) }

  /// A coordinate with one decimal.
  static func px(_ v: Double) -> String { String(format: "%.1f", v) }
}
