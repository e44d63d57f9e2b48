import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import Foundation

/// `AdaBench infer`: median latency of one inference forward pass (`Executor.predict`) at
/// `--batch`, on random inputs, after a warm-up.
enum InferBench {
  static func run(_ options: Options) throws(AdaError) {
    let modelPath = options.string("model")
    let arch = options.string("arch")
    guard (modelPath == nil) != (arch == nil) else {
      throw AdaError(.missing, path: "--model/--arch", "infer needs --model FILE.h5 or --arch FILE.yaml")
    }
    let batch = try options.int("batch", default: 1)
    let seconds = try options.double("seconds", default: 3)
    let threads = try options.int("threads", default: 2)
    let json = options.flag("json")
    try options.finish()

    let model: BenchModel
    if let modelPath {
      let m = try KerasFile.load(path: modelPath)
      model = try BenchModel(graph: m.graph, parameters: m.parameters)
    } else {
      model = try BenchModel(arch: arch!, seed: 1)
    }
    let executor = try Executor(graph: model.graph)
    var g = SeededGenerator(seed: 4)
    let x = Tensor.uniform([batch] + model.inputShape, lo: 0, hi: 1, using: &g)
    let t0 = Stopwatch.unixTime()
    let times = Stopwatch.withThreads(threads) {
      Stopwatch.measure(warmup: 10, minRuns: 20, seconds: seconds) {
        _ = executor.predict(x, parameters: model.parameters)
      }
    }
    let t1 = Stopwatch.unixTime()
    let median = Stopwatch.median(times) * 1000
    let sorted = times.sorted()
    BenchRecord(
      bench: "infer", metric: "median_ms", value: median, unit: "ms",
      detail: [
        "batch": String(batch), "threads": String(threads), "reps": String(times.count),
        "p10Ms": String(format: "%.4f", sorted[sorted.count / 10] * 1000),
        "p90Ms": String(format: "%.4f", sorted[sorted.count * 9 / 10] * 1000),
        "t0": String(format: "%.3f", t0), "t1": String(format: "%.3f", t1),
      ]
    ).emit(
      String(
        format: "infer batch %d, %d threads: %.3f ms median (%d reps, load %@)", batch, threads,
        median, times.count, Stopwatch.loadAverage as NSString),
      jsonOnly: json)
  }
}
