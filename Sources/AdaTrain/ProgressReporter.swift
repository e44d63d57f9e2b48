import AdaTensor
import Foundation

/// Where a run is: the next step to run. `epoch` and `step` are 0-based; `globalStep` counts the
/// optimizer updates done so far (it equals the optimizer's `iterations`).
public struct TrainingPosition: Codable, Hashable, Sendable {
  public var epoch: Int
  public var step: Int
  public var globalStep: Int

  public init(epoch: Int = 0, step: Int = 0, globalStep: Int = 0) {
    self.epoch = epoch
    self.step = step
    self.globalStep = globalStep
  }
}

/// What the run is about to do.
public struct TrainingPlan: Codable, Hashable, Sendable {
  public var epochs: Int
  public var stepsPerEpoch: Int
  public var batchSize: Int
  public var trainExamples: Int
  public var validationExamples: Int
  /// Where the run starts (not 0 when resumed).
  public var start: TrainingPosition
  /// The checkpoint the run resumed from, if any.
  public var resumedFrom: String?
}

/// After each optimizer step. `epoch` and `step` are 1-based here ("epoch 1, step 1/938").
public struct StepReport: Codable, Hashable, Sendable {
  public var epoch: Int
  public var epochs: Int
  public var step: Int
  public var steps: Int
  public var globalStep: Int
  /// Loss of this batch.
  public var loss: Float
  /// Mean loss and accuracy over the epoch so far (example-weighted, like Keras's progress bar).
  public var meanLoss: Double
  public var accuracy: Double
  public var learningRate: Float
  /// Training throughput over the epoch so far.
  public var imagesPerSecond: Double
  /// Seconds since the epoch started (including time before an interruption, when resumed).
  public var elapsedSeconds: Double
}

/// After each epoch (1-based `epoch`), with validation results when there is a validation split.
public struct EpochReport: Codable, Hashable, Sendable {
  public var epoch: Int
  public var epochs: Int
  public var loss: Double
  public var accuracy: Double
  public var validationLoss: Double?
  public var validationAccuracy: Double?
  /// Learning rate of the epoch's last step.
  public var learningRate: Float
  /// Training images per second (validation time excluded).
  public var imagesPerSecond: Double
  /// Seconds for the whole epoch, validation included.
  public var elapsedSeconds: Double
}

public struct CheckpointReport: Codable, Hashable, Sendable {
  public var path: String
  public var position: TrainingPosition
}

public struct TrainingSummary: Codable, Hashable, Sendable {
  /// Where the run stopped (`epoch == epochs` when it finished).
  public var position: TrainingPosition
  /// False when the run was stopped early by the caller.
  public var completed: Bool
  public var elapsedSeconds: Double
}

/// Everything a run tells its observers, in order: `started`, then `step`s with an `epoch` at
/// the end of each epoch and `checkpoint`s as they are written, then `finished`.
public enum TrainingEvent: Sendable {
  case started(TrainingPlan)
  case step(StepReport)
  case epoch(EpochReport)
  case checkpoint(CheckpointReport)
  case finished(TrainingSummary)

  /// The `event` value in JSON lines.
  public var name: String {
    switch self {
    case .started: "start"
    case .step: "step"
    case .epoch: "epoch"
    case .checkpoint: "checkpoint"
    case .finished: "finish"
    }
  }
}

/// Observes a training run. Called on the training thread; keep it cheap (the terminal bar
/// throttles its redraws).
public protocol ProgressReporter {
  func report(_ event: TrainingEvent)
}

/// Reports nothing.
public struct SilentReporter: ProgressReporter {
  public init() {}
  public func report(_ event: TrainingEvent) {}
}

/// One JSON object per line, for `--json`: `{"event":"step","epoch":1,"step":12,…}`. Every
/// payload field sits at the top level next to `event`; optional fields absent are omitted.
///
///     let reporter = JSONLinesReporter()                 // to stdout
///     let reporter = JSONLinesReporter { lines.append($0) }   // captured
public final class JSONLinesReporter: ProgressReporter {
  /// Emit one `step` line every this many steps (the other events always).
  public let stepInterval: Int
  private let write: (String) -> Void
  private let encoder: JSONEncoder

  public init(stepInterval: Int = 1, write: @escaping (String) -> Void = JSONLinesReporter.standardOutput) {
    precondition(stepInterval >= 1, "JSONLinesReporter: stepInterval must be ≥ 1")
    self.stepInterval = stepInterval
    self.write = write
    encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  }

  public static func standardOutput(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
  }

  public func report(_ event: TrainingEvent) {
    let data: Data?
    switch event {
    case .started(let p): data = try? encoder.encode(Line(event: event.name, payload: p))
    case .step(let s):
      guard s.step % stepInterval == 0 || s.step == s.steps else { return }
      data = try? encoder.encode(Line(event: event.name, payload: s))
    case .epoch(let e): data = try? encoder.encode(Line(event: event.name, payload: e))
    case .checkpoint(let c): data = try? encoder.encode(Line(event: event.name, payload: c))
    case .finished(let f): data = try? encoder.encode(Line(event: event.name, payload: f))
    }
    if let data, let line = String(data: data, encoding: .utf8) { write(line) }
  }

  /// `{"event": name}` merged with the payload's own keys.
  private struct Line<Payload: Encodable>: Encodable {
    var event: String
    var payload: Payload

    enum Key: String, CodingKey { case event }

    func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: Key.self)
      try c.encode(event, forKey: .event)
      try payload.encode(to: encoder)
    }
  }
}
