import AdaCore
import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import AdaTrain
import Foundation

/// `AdaBench train`: training throughput through the product's own path, `Trainer.fit`, with
/// the configuration `adascale train --arch FILE --dataset fashion-mnist --seed S` builds by
/// default (`TrainCommand`):
///
/// - Adam, lr 0.001, β1 0.9, β2 0.999, ε 1e-7 (Keras's rule, `Adam`), constant schedule,
///   no weight decay;
/// - batch 64, the epoch's seeded Fisher–Yates order (`EpochSampler`, seed `--seed`), the last
///   batch of an epoch smaller (60,000 = 937 · 64 + 32), no validation split;
/// - no augmentation (`adascale train`'s default: `--augment-crop 0`, no `--augment-flip`);
/// - the loss `ClassificationObjective` (Keras sparse categorical cross-entropy on the softmax,
///   fused gradient to the logits), dropout masks seeded per step;
/// - Fashion-MNIST kept as uint8 and converted to Float32 x/255 per batch (`BatchBuffer`).
///
/// Left out: the checkpoint `adascale train` writes at each epoch end (no checkpoint directory
/// is given) and the final test evaluation.
///
/// Images/s = examples of the timed steps ÷ wall time from the end of the last warm-up step to
/// the end of the last timed step: whole steps, batch gathering and epoch changes included.
///
/// `--write-order FILE` writes, before training, the order in which epochs `0..<--order-epochs`
/// visit the examples, as little-endian Int32 (epoch after epoch), from the same
/// `EpochSampler` the trainer builds, so the PyTorch peer trains on the same batches.
enum TrainerBench {
  static func run(_ options: Options) throws(AdaError) {
    guard let arch = options.string("arch") else {
      throw AdaError(.missing, path: "--arch", "train needs --arch FILE.yaml")
    }
    let batch = try options.int("batch", default: 64)
    let seconds = try options.double("seconds", default: 20)
    let warmup = try options.int("warmup", default: 5)
    let threads = try options.int("threads", default: 2)
    let seed = UInt64(try options.int("seed", default: 1))
    let orderFile = options.string("write-order")
    let orderEpochs = try options.int("order-epochs", default: 2)
    let json = options.flag("json")
    try options.finish()

    let graph = try ArchitectureFile.load(path: arch)
    let model = Model(graph: graph, parameters: try Parameters.initialize(for: graph, seed: seed))
    let data = try DatasetSource.resolve("fashion-mnist").load(.train)
    let config = TrainConfig(
      epochs: 1_000, batchSize: batch, optimizer: .adam(), schedule: .constant(0.001), seed: seed,
      validationFraction: 0, augmentation: .none)
    let sampler = EpochSampler(count: data.count, validationFraction: 0, batchSize: batch, seed: seed)
    var orderDigest = ""
    if let orderFile {
      orderDigest = try writeOrder(sampler, epochs: orderEpochs, to: orderFile)
    }

    let clock = StepClock(warmup: warmup, seconds: seconds, batch: batch, examples: data.count)
    let trainer = Trainer(config: config, reporter: clock)
    let result = try Stopwatch.withThreads(threads) {
      Result { () throws(AdaError) in try trainer.fit(model, on: data) { _ in clock.isDone } }
    }.get()
    let timed = clock.timedSteps
    guard timed > 0 else { throw AdaError(.invalidValue, path: "--seconds", "no step was timed") }
    let wall = clock.ends.last! - clock.ends[warmup - 1]
    let images = clock.sizes[warmup...].reduce(0, +)
    let imagesPerSecond = Double(images) / wall
    let stepTimes = (warmup..<clock.ends.count).map { clock.ends[$0] - clock.ends[$0 - 1] }
    let forwardMACs = try graph.costs().total.macs
    let gflops = 3 * Double(forwardMACs) * 2 * imagesPerSecond / 1e9
    let detail = [
      "path": "Trainer.fit", "optimizer": "adam lr 0.001 beta1 0.9 beta2 0.999 eps 1e-7",
      "loss": "ClassificationObjective (softmax cross-entropy, mean over the batch)",
      "augmentation": "none", "shuffle": "EpochSampler seed \(seed)", "data": data.name,
      "batch": String(batch), "threads": String(threads), "warmupSteps": String(warmup),
      "steps": String(timed), "images": String(images), "seconds": String(format: "%.3f", wall),
      "epochsReached": String(result.position.epoch + 1),
      "medianStepMs": String(format: "%.3f", Stopwatch.median(stepTimes) * 1000),
      "minStepMs": String(format: "%.3f", stepTimes.min()! * 1000),
      "firstLoss": String(format: "%.4f", clock.losses.first ?? .nan),
      "lastLoss": String(format: "%.4f", clock.losses.last ?? .nan),
      "orderSha256": orderDigest,
      "t0": String(format: "%.3f", clock.wallStart), "t1": String(format: "%.3f", clock.wallEnd),
    ]
    BenchRecord(
      bench: "train", metric: "images_per_second", value: imagesPerSecond, unit: "images/s",
      detail: detail
    ).emit(
      String(
        format:
          "train (Trainer.fit, Adam) batch %d, %d threads: %.0f images/s over %d steps (%.2f s), median step %.2f ms, loss %.3f → %.3f (load %@)",
        batch, threads, imagesPerSecond, timed, wall, Stopwatch.median(stepTimes) * 1000,
        clock.losses.first ?? .nan, clock.losses.last ?? .nan, Stopwatch.loadAverage as NSString),
      jsonOnly: json)
    BenchRecord(bench: "train", metric: "gflops", value: gflops, unit: "GFLOP/s", detail: detail)
      .emit(String(format: "train achieved %.1f GFLOP/s (3 × forward MACs × 2)", gflops), jsonOnly: json)
  }

  /// Writes the visiting order of `epochs` epochs as little-endian Int32 and returns the file's
  /// SHA-256 (hex), which the peer reports too.
  static func writeOrder(_ sampler: EpochSampler, epochs: Int, to path: String) throws(AdaError) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(epochs * sampler.trainIndices.count * 4)
    for epoch in 0..<epochs {
      for i in sampler.order(epoch: epoch) {
        let v = UInt32(truncatingIfNeeded: Int32(i)).littleEndian
        withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) }
      }
    }
    do {
      try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw AdaError(
        .writeFailed, path: path, "could not write the shuffle order: \(error.localizedDescription)")
    }
    var hash = SHA256()
    hash.update(bytes)
    return hash.hexDigest()
  }
}

/// Records when each training step ends (the trainer reports after every step) and tells the
/// trainer to stop once `seconds` have passed after the warm-up steps.
final class StepClock: ProgressReporter {
  let warmup: Int
  let seconds: Double
  let batch: Int
  let examples: Int
  /// Monotonic end time of each step, warm-up included.
  private(set) var ends: [Double] = []
  /// Examples in each step.
  private(set) var sizes: [Int] = []
  private(set) var losses: [Float] = []
  private var deadline = Double.infinity
  /// Unix time of the end of the warm-up and of the last step (matched with load samples).
  private(set) var wallStart = 0.0
  private(set) var wallEnd = 0.0

  init(warmup: Int, seconds: Double, batch: Int, examples: Int) {
    self.warmup = warmup
    self.seconds = seconds
    self.batch = batch
    self.examples = examples
  }

  var timedSteps: Int { max(0, ends.count - warmup) }

  /// Asked before every step: stop when the time is up and at least 5 steps were timed.
  var isDone: Bool { timedSteps >= 5 && Stopwatch.now() >= deadline }

  func report(_ event: TrainingEvent) {
    guard case .step(let s) = event else { return }
    ends.append(Stopwatch.now())
    wallEnd = Date().timeIntervalSince1970
    sizes.append(s.step == s.steps ? examples - (s.steps - 1) * batch : batch)
    losses.append(s.loss)
    if ends.count == warmup {
      deadline = ends[warmup - 1] + seconds
      wallStart = wallEnd
    }
  }
}
