import AdaBundle
import Foundation

/// `pareto.svg` and `pareto-<device>.svg`: accuracy (%) against batch-1 latency (ms), one
/// series per device (or per context), each point labelled with its variant id, each series'
/// non-dominated staircase (the best accuracy reachable within a latency), the source model as
/// a black diamond, axes with ticks, and a legend. Latency is drawn on a log scale when the
/// largest is more than 4× the smallest. Infeasible points (over the context's memory) are
/// hollow and left out of the staircase. Self-contained SVG (no scripts, generic font), 720×480.
///
/// Points carry `class="point"`, `data-series` and `data-variant` attributes, so tools can read
/// the plot back.
public enum ParetoPlot {
  /// One plotted variant.
  public struct Point: Hashable, Sendable {
    public var label: String
    public var latencyMs: Double
    /// 0–1 (drawn as %).
    public var accuracy: Double
    public var feasible: Bool

    public init(label: String, latencyMs: Double, accuracy: Double, feasible: Bool = true) {
      self.label = label
      self.latencyMs = latencyMs
      self.accuracy = accuracy
      self.feasible = feasible
    }
  }

  /// Points of one device (or context), drawn in one colour.
  public struct Series: Hashable, Sendable {
    public var name: String
    public var points: [Point]
    public init(name: String, points: [Point]) {
      self.name = name
      self.points = points
    }
  }

  public static let width = 720
  public static let height = 480
  static let colors = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
  ]

  /// `pareto.svg`: every device of the manifest at the reference context (`referenceContext`).
  public static func svg(manifest: Manifest, lut: LookupTable) -> String {
    let context = referenceContext(manifest: manifest, lut: lut)
    let series = manifest.devices.map { device in
      Series(name: device, points: points(manifest: manifest, lut: lut, device: device, context: context))
    }
    return svg(
      title: "Accuracy vs latency (context \(context ?? "none"))", series: series,
      source: sourcePoint(manifest))
  }

  /// `pareto-<device>.svg`: one device, one series per manifest context. The source model is
  /// drawn on the first device's plot (it was measured on the host, at the nominal context).
  public static func svg(manifest: Manifest, lut: LookupTable, device: String) -> String {
    let series = manifest.contexts.map { context in
      Series(
        name: context.name,
        points: points(manifest: manifest, lut: lut, device: device, context: context.name))
    }
    let source = device == manifest.devices.first ? sourcePoint(manifest) : nil
    return svg(title: "Accuracy vs latency on \(device), per context", series: series, source: source)
  }

  /// The context plotted in `pareto.svg`: `normal` if the manifest has it, else its first
  /// context, else the first context in the table.
  public static func referenceContext(manifest: Manifest, lut: LookupTable) -> String? {
    let names = manifest.contexts.map(\.name)
    return names.contains("normal") ? "normal" : names.first ?? lut.rows.first?.context
  }

  /// The manifest's variants (in manifest order) that have a row for `device` and `context`.
  static func points(manifest: Manifest, lut: LookupTable, device: String, context: String?) -> [Point] {
    manifest.variants.compactMap { v in
      lut.rows.first { $0.variant == v.id && $0.device == device && $0.context == context }.map {
        Point(label: v.id, latencyMs: $0.latencyMs, accuracy: $0.accuracy, feasible: $0.feasible)
      }
    }
  }

  static func sourcePoint(_ manifest: Manifest) -> Point {
    Point(label: "source", latencyMs: manifest.source.latencyMs, accuracy: manifest.source.accuracy)
  }

  /// The non-dominated feasible points (no other point is at least as fast and at least as
  /// accurate, and better in one), by increasing latency (so accuracy increases too).
  public static func front(_ points: [Point]) -> [Point] {
    let sorted = points.filter(\.feasible).sorted {
      ($0.latencyMs, -$0.accuracy, $0.label) < ($1.latencyMs, -$1.accuracy, $1.label)
    }
    var front: [Point] = []
    for p in sorted where front.last.map({ p.accuracy > $0.accuracy }) ?? true { front.append(p) }
    return front
  }

  /// The plot of `series` (and the source model, when given) as an SVG document. The x values
  /// are the points' `latencyMs`, titled `xLabel (xUnit)` (another quantity may stand there, as
  /// in `ExitPlot`).
  public static func svg(
    title: String, series: [Series], source: Point?, xLabel: String = "batch-1 latency", xUnit: String = "ms"
  ) -> String {
    let all = series.flatMap(\.points) + (source.map { [$0] } ?? [])
    let (left, right, top, bottom) = (70.0, Double(width) - 170, 44.0, Double(height) - 56)
    let x = Axis.covering(all.map(\.latencyMs), from: left, to: right, allowLog: true)
    let y = Axis.covering(all.map { $0.accuracy * 100 }, from: bottom, to: top, allowLog: false)
    var out = [
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"11\">",
      "<title>\(escape(title))</title>",
      "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>",
      "<text x=\"\(px((left + right) / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">"
        + "\(escape(title))</text>",
    ]
    out += axes(x: x, y: y, box: (left, right, top, bottom), xLabel: xLabel, xUnit: xUnit)
    for (i, s) in series.enumerated() {
      out += draw(s, color: colors[i % colors.count], x: x, y: y, right: right)
    }
    if let source {
      let (cx, cy) = (x.position(source.latencyMs), y.position(source.accuracy * 100))
      out.append(
        "<path class=\"source\" d=\"M \(px(cx)) \(px(cy - 6)) L \(px(cx + 6)) \(px(cy)) L \(px(cx)) \(px(cy + 6)) "
          + "L \(px(cx - 6)) \(px(cy)) Z\" fill=\"#000000\"/>")
      out.append(
        "<text class=\"label\" x=\"\(px(cx + 8))\" y=\"\(px(cy + 4))\">\(escape(source.label))</text>")
    }
    if all.isEmpty {
      out.append(
        "<text x=\"\(px((left + right) / 2))\" y=\"\(px((top + bottom) / 2))\" text-anchor=\"middle\">"
          + "no rows to plot</text>")
    }
    out += legend(series, source: source, hollow: all.contains { !$0.feasible }, x: right + 16, y: top)
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// Frame, grid lines, tick labels and axis titles.
  static func axes(x: Axis, y: Axis, box: (Double, Double, Double, Double), xLabel: String, xUnit: String)
    -> [String]
  {
    let (left, right, top, bottom) = box
    var out = ["<g class=\"axes\" stroke-width=\"1\">"]
    for t in x.ticks {
      let p = px(x.position(t))
      out.append("<line x1=\"\(p)\" y1=\"\(px(top))\" x2=\"\(p)\" y2=\"\(px(bottom))\" stroke=\"#e0e0e0\"/>")
      out.append("<text x=\"\(p)\" y=\"\(px(bottom + 16))\" text-anchor=\"middle\">\(x.label(t))</text>")
    }
    for t in y.ticks {
      let p = px(y.position(t))
      out.append("<line x1=\"\(px(left))\" y1=\"\(p)\" x2=\"\(px(right))\" y2=\"\(p)\" stroke=\"#e0e0e0\"/>")
      out.append(
        "<text x=\"\(px(left - 6))\" y=\"\(px(y.position(t) + 4))\" text-anchor=\"end\">\(y.label(t))</text>")
    }
    out.append(
      "<rect x=\"\(px(left))\" y=\"\(px(top))\" width=\"\(px(right - left))\" height=\"\(px(bottom - top))\" "
        + "fill=\"none\" stroke=\"#444444\"/>")
    let xTitle = x.logarithmic ? "\(xLabel) (\(xUnit), log scale)" : "\(xLabel) (\(xUnit))"
    out.append(
      "<text x=\"\(px((left + right) / 2))\" y=\"\(px(bottom + 38))\" text-anchor=\"middle\">\(xTitle)</text>"
    )
    let cy = px((top + bottom) / 2)
    out.append(
      "<text x=\"18\" y=\"\(cy)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(cy))\">accuracy (%)</text>"
    )
    out.append("</g>")
    return out
  }

  /// One series: its staircase, then its points and labels.
  static func draw(_ s: Series, color: String, x: Axis, y: Axis, right: Double) -> [String] {
    let name = escape(s.name)
    var out = ["<g class=\"series\" data-series=\"\(name)\">"]
    let front = front(s.points)
    if let first = front.first {
      var d = "M \(px(x.position(first.latencyMs))) \(px(y.position(first.accuracy * 100)))"
      for p in front.dropFirst() {
        d += " H \(px(x.position(p.latencyMs))) V \(px(y.position(p.accuracy * 100)))"
      }
      d += " H \(px(right))"
      out.append(
        "<path class=\"front\" d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" "
          + "stroke-opacity=\"0.7\"/>")
    }
    for p in s.points {
      let (cx, cy) = (px(x.position(p.latencyMs)), px(y.position(p.accuracy * 100)))
      let fill = p.feasible ? color : "#ffffff"
      out.append(
        "<circle class=\"point\" data-series=\"\(name)\" data-variant=\"\(escape(p.label))\" cx=\"\(cx)\" "
          + "cy=\"\(cy)\" r=\"4\" fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"1.5\"/>")
      out.append(
        "<text class=\"label\" x=\"\(px(x.position(p.latencyMs) + 6))\" y=\"\(px(y.position(p.accuracy * 100) - 6))\" "
          + "fill=\"\(color)\">\(escape(p.label))</text>")
    }
    out.append("</g>")
    return out
  }

  /// Colour swatch and name per series, the source marker, and the hollow-point key.
  static func legend(_ series: [Series], source: Point?, hollow: Bool, x: Double, y: Double) -> [String] {
    var out = ["<g class=\"legend\">"]
    var row = y + 8
    for (i, s) in series.enumerated() {
      let color = colors[i % colors.count]
      out.append("<circle cx=\"\(px(x + 5))\" cy=\"\(px(row))\" r=\"4\" fill=\"\(color)\"/>")
      out.append("<text x=\"\(px(x + 16))\" y=\"\(px(row + 4))\">\(escape(s.name))</text>")
      row += 18
    }
    if source != nil {
      out.append(
        "<path d=\"M \(px(x + 5)) \(px(row - 5)) L \(px(x + 10)) \(px(row)) L \(px(x + 5)) \(px(row + 5)) "
          + "L \(px(x)) \(px(row)) Z\" fill=\"#000000\"/>")
      out.append("<text x=\"\(px(x + 16))\" y=\"\(px(row + 4))\">source model (host)</text>")
      row += 18
    }
    if hollow {
      out.append(
        "<circle cx=\"\(px(x + 5))\" cy=\"\(px(row))\" r=\"4\" fill=\"#ffffff\" stroke=\"#444444\" stroke-width=\"1.5\"/>"
      )
      out.append("<text x=\"\(px(x + 16))\" y=\"\(px(row + 4))\">infeasible (memory)</text>")
      row += 18
    }
    out.append("<text x=\"\(px(x))\" y=\"\(px(row + 8))\" fill=\"#666666\">line: Pareto front</text>")
    out.append("</g>")
    return out
  }
}
