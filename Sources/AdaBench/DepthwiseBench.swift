import AdaTensor
import Foundation

/// `AdaBench depthwise`: batch-1 depthwise 3×3 forward on the shapes of a 32×32
/// MobileNetV2(alpha 0.35) — the multiplier-1 SIMD path (`DepthwiseKernels.forward`) against the
/// general direct loop (`forwardGeneral`, the kernel it replaced for multiplier 1) in the same
/// run, alternating call by call so both see the same load. One thread.
enum DepthwiseBench {
  /// (H, W, C, stride, same): the depthwise convs of MobileNetV2(0.35) at 32×32×3, in order of
  /// first appearance (stride-2 convs there are zero-padding + valid).
  static let shapes = [
    (16, 16, 16, 1, true), (17, 17, 48, 2, false), (8, 8, 48, 1, true), (9, 9, 48, 2, false),
    (4, 4, 96, 1, true), (5, 5, 96, 2, false), (2, 2, 144, 1, true), (2, 2, 192, 1, true),
    (3, 3, 192, 2, false), (1, 1, 336, 1, true),
  ]

  static func run(_ options: Options) throws(AdaError) {
    let seconds = try options.double("seconds", default: 0.2)
    let json = options.flag("json")
    try options.finish()
    var g = SeededGenerator(seed: 11)
    var sink: Float = 0
    var totals = (0.0, 0.0)
    if !json { print("depthwise 3×3, batch 1, 1 thread: general loop vs SIMD over channels (median µs)") }
    Stopwatch.withThreads(1) {
      for (h, w, c, s, same) in shapes {
        let geometry = ConvGeometry(
          inputHeight: h, inputWidth: w, kernelHeight: 3, kernelWidth: 3, strideHeight: s,
          strideWidth: s, same: same)
        let x = Tensor.uniform([1, h, w, c], lo: -1, hi: 1, using: &g)
        let k = Tensor.uniform([3, 3, c, 1], lo: -1, hi: 1, using: &g)
        var general: [Double] = []
        var simd: [Double] = []
        let deadline = Stopwatch.now() + seconds
        while general.count < 20 || Stopwatch.now() < deadline {
          var t0 = Stopwatch.now()
          sink += DepthwiseKernels.forwardGeneral(x, kernel: k, geometry: geometry).scalars[0]
          general.append(Stopwatch.now() - t0)
          t0 = Stopwatch.now()
          sink += DepthwiseKernels.forward(x, kernel: k, geometry: geometry).scalars[0]
          simd.append(Stopwatch.now() - t0)
        }
        let (a, b) = (Stopwatch.median(general) * 1e6, Stopwatch.median(simd) * 1e6)
        totals.0 += a
        totals.1 += b
        let name = "\(h)x\(w)x\(c)/s\(s)"
        BenchRecord(
          bench: "depthwise", metric: name, value: a / b, unit: "x",
          detail: ["generalUs": String(format: "%.3f", a), "simdUs": String(format: "%.3f", b)]
        ).emit(
          String(format: "  %-14@ %9.3f %9.3f  %5.2f×", name, a, b, a / b), jsonOnly: json)
      }
    }
    BenchRecord(
      bench: "depthwise", metric: "total", value: totals.0 / totals.1, unit: "x",
      detail: [
        "generalUs": String(format: "%.3f", totals.0), "simdUs": String(format: "%.3f", totals.1),
      ]
    ).emit(
      String(format: "  %-14@ %9.3f %9.3f  %5.2f×", "total", totals.0, totals.1, totals.0 / totals.1),
      jsonOnly: json)
    if sink.isNaN { print("") }
  }
}
