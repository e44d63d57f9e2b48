import AdaTensor
import Foundation

/// `AdaBench gemm`: what OpenBLAS sgemm reaches on this machine right now, at 1024³ (the peak
/// the model's efficiency is compared with) and at each GEMM of the model's training step.
enum GemmBench {
  static func run(_ options: Options) throws(AdaError) {
    let threadCounts = try options.ints("threads", default: [1, 2])
    let seconds = try options.double("seconds", default: 1)
    let batch = try options.int("batch", default: 64)
    let json = options.flag("json")
    var shapes = [GemmShape(name: "square", m: 1024, n: 1024, k: 1024)]
    if let arch = options.string("arch") {
      shapes += try GemmShape.forModel(BenchModel(arch: arch, seed: 1).graph, batch: batch)
    }
    try options.finish()
    for threads in threadCounts {
      for shape in shapes {
        let gflops = Stopwatch.withThreads(threads) { measure(shape, seconds: seconds) }
        var line = String(
          format: "gemm %-34@ threads %d  %7.1f GFLOP/s", "\(shape)" as NSString, threads, gflops)
        if threads > 1 && shape.name != "square" {
          let split = Stopwatch.withThreads(threads) { measure(shape, seconds: seconds, split: true) }
          line += String(format: "   split %7.1f", split)
          BenchRecord(
            bench: "gemm", metric: shape.name + " split", value: split, unit: "GFLOP/s",
            detail: ["threads": String(threads)]
          ).emit(nil, jsonOnly: json)
        }
        BenchRecord(
          bench: "gemm", metric: shape.name == "square" ? "peak" : shape.name, value: gflops,
          unit: "GFLOP/s",
          detail: [
            "threads": String(threads), "m": String(shape.m), "n": String(shape.n),
            "k": String(shape.k), "transA": String(shape.transA), "transB": String(shape.transB),
          ]
        ).emit(line, jsonOnly: json)
      }
    }
  }

  /// Median GFLOP/s of `C = op(A)·op(B)` with random operands over about `seconds`.
  static func measure(_ s: GemmShape, seconds: Double, split: Bool = false) -> Double {
    var g = SeededGenerator(seed: 3)
    let a = Tensor.uniform([s.m * s.k], lo: -1, hi: 1, using: &g).scalars
    let b = Tensor.uniform([s.k * s.n], lo: -1, hi: 1, using: &g).scalars
    var c = [Float](repeating: 0, count: s.m * s.n)
    let times = a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          Stopwatch.measure(seconds: seconds) {
            let (a, b, c) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
            if !split {
              Gemm.sgemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a, b: b, c: c)
            } else {
              Gemm.parallelSgemm(
                transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a, b: b, c: c)
            }
          }
        }
      }
    }
    return s.flops / Stopwatch.median(times) / 1e9
  }
}
