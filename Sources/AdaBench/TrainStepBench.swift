import AdaNN
import AdaTensor
import Foundation

/// `AdaBench train-step`: what one training step costs — forward (training mode), softmax
/// cross-entropy on the logits, backward, and a plain SGD update applied to the parameters —
/// run back to back on consecutive batches for `--seconds`.
///
/// Reports images/s, and the achieved GFLOP/s counted the usual way: a training step is about
/// three forward passes of multiply–accumulates (forward, input gradient, weight gradient), each
/// MAC two FLOPs: `3 · forwardMACs · 2 · batch / stepTime`.
enum TrainStepBench {
  static func run(_ options: Options) throws(AdaError) {
    guard let arch = options.string("arch") else {
      throw AdaError(.missing, path: "--arch", "train-step needs --arch FILE.yaml")
    }
    let batch = try options.int("batch", default: 64)
    let seconds = try options.double("seconds", default: 20)
    let threads = try options.int("threads", default: 2)
    let blasThreads = try options.int("blas-threads", default: threads)
    let learningRate = Float(try options.double("lr", default: 0.01))
    let source = options.string("data", default: "fmnist")
    let json = options.flag("json")
    try options.finish()

    var model = try BenchModel(arch: arch, seed: 1)
    let executor = try Executor(graph: model.logitsGraph)
    let classes =
      model.logitsGraph.nodes.last.flatMap { node -> Int? in
        if case .dense(let s) = node.spec { s.units } else { nil }
      } ?? 10
    let data = try BenchData.training(
      source: source, shape: model.inputShape, classes: classes, seed: 2)
    let batches = data.count / batch
    guard batches > 0 else {
      throw AdaError(.invalidValue, path: "--batch", "batch \(batch) exceeds the \(data.count) examples")
    }
    let loss = SoftmaxCrossEntropy()
    var gradients = model.parameters.zerosLike()
    var step = 0
    var losses: [Float] = []

    func trainStep() {
      let first = (step % batches) * batch
      let x = data.images.slice(batch: first..<(first + batch))
      let y = Array(data.labels[first..<(first + batch)])
      var context = ForwardContext(training: true, needsBackward: true, seed: UInt64(step))
      let trace = executor.forward(x, parameters: &model.parameters, context: &context)
      let (value, dLogits) = loss.evaluate(logits: trace.outputs[0], labels: y)
      for key in model.trainableKeys { gradients.tensors[key]!.fill(0) }
      executor.backward(
        trace, outputGradients: [dLogits], parameters: model.parameters, gradients: &gradients)
      for key in model.trainableKeys {
        model.parameters.tensors[key]!.add(gradients.tensors[key]!, scaledBy: -learningRate)
      }
      losses.append(value)
      step += 1
    }

    var cpuSeconds = 0.0
    let times = Stopwatch.withThreads(threads) {
      BLAS.threads = blasThreads
      for _ in 0..<3 { trainStep() }
      let cpu0 = Stopwatch.processCPUTime()
      defer { cpuSeconds = Stopwatch.processCPUTime() - cpu0 }
      return Stopwatch.measure(warmup: 0, minRuns: 5, seconds: seconds) { trainStep() }
    }
    let total = times.reduce(0, +)
    let imagesPerSecond = Double(times.count * batch) / total
    let gflops = 3 * Double(model.forwardMACs) * 2 * Double(batch) * Double(times.count) / total / 1e9
    let firstLoss = losses.prefix(10).reduce(0, +) / Float(min(10, losses.count))
    let lastLoss = losses.suffix(10).reduce(0, +) / Float(min(10, losses.count))
    let detail = [
      "batch": String(batch), "threads": String(threads), "steps": String(times.count),
      "seconds": String(format: "%.2f", total), "data": data.name,
      "medianStepMs": String(format: "%.2f", Stopwatch.median(times) * 1000),
      "minStepMs": String(format: "%.2f", times.min()! * 1000),
      "cpuMsPerStep": String(format: "%.2f", cpuSeconds / Double(times.count) * 1000),
      "firstLoss": String(format: "%.4f", firstLoss), "lastLoss": String(format: "%.4f", lastLoss),
    ]
    BenchRecord(
      bench: "train-step", metric: "images_per_second", value: imagesPerSecond, unit: "images/s",
      detail: detail
    )
    .emit(
      String(
        format:
          "train-step batch %d, %d threads: %.0f images/s, median step %.2f ms (min %.2f, CPU %.2f), %d steps, %@ data, loss %.3f → %.3f (load %@)",
        batch, threads, imagesPerSecond, Stopwatch.median(times) * 1000, times.min()! * 1000,
        cpuSeconds / Double(times.count) * 1000, times.count,
        data.name as NSString, firstLoss, lastLoss, Stopwatch.loadAverage as NSString),
      jsonOnly: json)
    BenchRecord(bench: "train-step", metric: "gflops", value: gflops, unit: "GFLOP/s", detail: detail)
      .emit(String(format: "train-step achieved %.1f GFLOP/s (3 × forward MACs × 2)", gflops), jsonOnly: json)
  }
}
