import AdaNN
import AdaTensor

extension Manifest {
  /// A variant's early exits (docs/exits.md): the variant with exit heads added, as a
  /// multi-output Keras file, and the calibrated operating points at which inputs leave early.
  ///
  /// An input runs the backbone up to the first kept exit, computes that head, and leaves when
  /// the head's confidence reaches the exit's threshold at the operating point in force;
  /// otherwise it goes on to the next exit, and finally to the variant's own output. The static
  /// variant (`Variant.file`) is the same backbone with the same weights: its output equals the
  /// multi-exit file's last output.
  public struct ExitPlan: Codable, Hashable, Sendable {
    /// The multi-output Keras file, relative to the bundle, e.g. `variants/v03_exits.h5`: one
    /// output per exit in depth order, the variant's own output last.
    public var file: String
    /// How an exit's confidence is scored.
    public var confidence: ExitConfidence
    /// The exits the file keeps, shallowest first (the variant's own output not included).
    public var exits: [Exit]
    /// MACs of the multi-exit model run to its last output, every head included.
    public var finalMacs: Int
    /// Predicted batch-1 latency of the same (per-op table), ms.
    public var finalPredictedLatencyMs: Double
    /// The calibrated thresholds, one set per target (accuracy drops, then budgets).
    public var operatingPoints: [OperatingPoint]
    /// Mean measured batch-1 latency per input of the variant without early exiting, on the
    /// same test sample and in the same rounds as the operating points' `measuredLatencyMs`,
    /// ms; nil when not measured.
    public var measuredStaticLatencyMs: Double?
    /// Validation accuracy of the variant without early exiting (the calibration's reference),
    /// 0–1; nil in bundles written before it was recorded.
    public var staticValidationAccuracy: Double?

    public init(
      file: String, confidence: ExitConfidence, exits: [Exit], finalMacs: Int,
      finalPredictedLatencyMs: Double,
      operatingPoints: [OperatingPoint], measuredStaticLatencyMs: Double? = nil,
      staticValidationAccuracy: Double? = nil
    ) {
      self.file = file
      self.confidence = confidence
      self.exits = exits
      self.finalMacs = finalMacs
      self.finalPredictedLatencyMs = finalPredictedLatencyMs
      self.operatingPoints = operatingPoints
      self.measuredStaticLatencyMs = measuredStaticLatencyMs
      self.staticValidationAccuracy = staticValidationAccuracy
    }

    /// The operating point named `name`, if the plan has it.
    public func operatingPoint(named name: String) -> OperatingPoint? {
      operatingPoints.first { $0.name == name }
    }

    /// The test accuracy validation predicts for `point`: the static variant's test accuracy
    /// moved by the change calibration saw on validation (paired, so the two splits' difference
    /// in difficulty cancels); nil without `staticValidationAccuracy` (docs/exits.md,
    /// "Validation predicts test").
    public func predictedTestAccuracy(of point: OperatingPoint, staticTestAccuracy: Double) -> Double? {
      staticValidationAccuracy.map { staticTestAccuracy + point.validationAccuracy - $0 }
    }

    /// The sampling standard deviation of `predictedTestAccuracy`'s error, 0–1, from
    /// validation alone; nil without `validationSwaps` or `staticValidationAccuracy`.
    ///
    /// Both splits measure the change `δ` the point makes against the variant without early
    /// exiting as a mean over their inputs of +1 (only the point is right), −1 (only the
    /// variant is) or 0, so each mean has variance `(s − δ²) / n`, where `s` is the share of
    /// swapped inputs; the error, test's change minus validation's, is the difference of two
    /// independent means: `√((s − δ²)(1/n_validation + 1/n_test))`, with `s` and `δ` as
    /// validation saw them (docs/exits.md, "Validation predicts test").
    public func predictionError(of point: OperatingPoint, validationExamples: Int, testExamples: Int)
      -> Double?
    {
      guard let s = point.validationSwaps, let reference = staticValidationAccuracy,
        validationExamples > 0, testExamples > 0
      else { return nil }
      let delta = point.validationAccuracy - reference
      let perExample = max(s - delta * delta, 0)
      return (perExample * (1 / Double(validationExamples) + 1 / Double(testExamples))).squareRoot()
    }

    enum CodingKeys: String, CodingKey {
      case file, confidence, exits, finalMacs = "final_macs"
      case finalPredictedLatencyMs = "final_predicted_latency_ms", operatingPoints = "operating_points"
      case measuredStaticLatencyMs = "measured_static_latency_ms"
      case staticValidationAccuracy = "static_validation_accuracy"
    }
  }

  /// One exit head of a multi-exit variant.
  public struct Exit: Codable, Hashable, Sendable {
    /// The head's output node in the multi-exit file (its output index is its position in
    /// `ExitPlan.exits`).
    public var output: String
    /// The block the head follows, as the recipe or the supernet names it.
    public var block: String
    /// The backbone node the head reads.
    public var node: String
    /// The head's form, e.g. `grid:2` (average-pooled to a 2×2 grid, then Dense), `gap`
    /// (global average pooling, then Dense) or `conv:32` (1×1 conv, pooling, Dense).
    public var head: String
    /// MACs from the input to this exit's output: the backbone up to `node` plus this head and
    /// every earlier head (cumulative, as when every exit is kept).
    public var macs: Int
    /// MACs of this head alone.
    public var headMacs: Int
    /// Predicted batch-1 latency from the input to this exit's output (per-op table,
    /// cumulative as `macs`), ms.
    public var predictedLatencyMs: Double
    /// Predicted batch-1 latency of this head alone, ms.
    public var headPredictedLatencyMs: Double
    /// Accuracy of this exit alone on the validation split, 0–1.
    public var validationAccuracy: Double

    public init(
      output: String, block: String, node: String, head: String, macs: Int, headMacs: Int,
      predictedLatencyMs: Double, headPredictedLatencyMs: Double, validationAccuracy: Double
    ) {
      self.output = output
      self.block = block
      self.node = node
      self.head = head
      self.macs = macs
      self.headMacs = headMacs
      self.predictedLatencyMs = predictedLatencyMs
      self.headPredictedLatencyMs = headPredictedLatencyMs
      self.validationAccuracy = validationAccuracy
    }

    enum CodingKeys: String, CodingKey {
      case output, block, node, head, macs, headMacs = "head_macs"
      case predictedLatencyMs = "predicted_latency_ms", headPredictedLatencyMs = "head_predicted_latency_ms"
      case validationAccuracy = "validation_accuracy"
    }
  }

  /// Thresholds calibrated on the validation split for one target, and what they give.
  public struct OperatingPoint: Codable, Hashable, Sendable {
    /// What the thresholds were fitted for.
    public enum Kind: String, Codable, Hashable, Sendable {
      /// The least expected MACs at no more than `target` accuracy (0–1) below the variant
      /// without early exiting, on the validation split.
      case accuracyDrop = "accuracy-drop"
      /// The best validation accuracy at no more than `target` × the variant's MACs expected
      /// per input (MSDNet's budgeted batch classification).
      case budget
    }

    /// e.g. `drop-0.5` (half a point) or `budget-0.5`.
    public var name: String
    public var kind: Kind
    public var target: Double
    /// Per exit, the confidence (0–1) at or above which an input leaves there; nil: the exit
    /// is not used at this point (its head is not run).
    public var thresholds: [Float?]
    /// Share of validation inputs leaving at each exit, then at the final output.
    public var exitRates: [Double]
    /// MACs per input expected on the validation split.
    public var expectedMacs: Double
    /// Batch-1 latency per input expected on the validation split, from the per-op table, ms.
    public var expectedLatencyMs: Double
    /// Accuracy with early exiting on the validation split, 0–1.
    public var validationAccuracy: Double
    /// Accuracy with early exiting on the test split, measured after the thresholds were
    /// fixed, 0–1.
    public var testAccuracy: Double
    /// Share of test inputs leaving at each exit, then at the final output.
    public var testExitRates: [Double]
    /// MACs per input on the test split.
    public var testExpectedMacs: Double
    /// Mean measured batch-1 latency per input on (a sample of) the test split, running only
    /// what each input needs, ms; nil when not measured.
    public var measuredLatencyMs: Double?
    /// Share of validation inputs that exactly one of this point and the variant without early
    /// exiting answers rightly (the inputs on which their accuracies differ), 0–1; nil in
    /// bundles written before it was recorded.
    public var validationSwaps: Double?

    public init(
      name: String, kind: Kind, target: Double, thresholds: [Float?], exitRates: [Double],
      expectedMacs: Double,
      expectedLatencyMs: Double, validationAccuracy: Double, testAccuracy: Double, testExitRates: [Double],
      testExpectedMacs: Double, measuredLatencyMs: Double? = nil, validationSwaps: Double? = nil
    ) {
      self.name = name
      self.kind = kind
      self.target = target
      self.thresholds = thresholds
      self.exitRates = exitRates
      self.expectedMacs = expectedMacs
      self.expectedLatencyMs = expectedLatencyMs
      self.validationAccuracy = validationAccuracy
      self.testAccuracy = testAccuracy
      self.testExitRates = testExitRates
      self.testExpectedMacs = testExpectedMacs
      self.measuredLatencyMs = measuredLatencyMs
      self.validationSwaps = validationSwaps
    }

    enum CodingKeys: String, CodingKey {
      case name, kind, target, thresholds, exitRates = "exit_rates", expectedMacs = "expected_macs"
      case expectedLatencyMs = "expected_latency_ms", validationAccuracy = "validation_accuracy"
      case testAccuracy = "test_accuracy", testExitRates = "test_exit_rates"
      case testExpectedMacs = "test_expected_macs", measuredLatencyMs = "measured_latency_ms"
      case validationSwaps = "validation_swaps"
    }
  }
}

extension Manifest.ExitPlan {
  /// Whether `outputs` (a multi-exit model's) are this plan's exits in order, then one more
  /// (the variant's own output).
  public func matches(outputs: [String]) -> Bool {
    outputs.count == exits.count + 1 && Array(outputs.dropLast()) == exits.map(\.output)
  }

  /// Every operating point has one threshold per exit, each finite and in [0, 1] or null.
  /// Errors name `<at>.exits.operating_points[k].thresholds[j]` in `file`.
  public func checkThresholds(file: String, at: String) throws(AdaError) {
    for (k, p) in operatingPoints.enumerated() {
      let here = "\(at).exits.operating_points[\(k)].thresholds"
      guard p.thresholds.count == exits.count else {
        throw AdaError(
          .badShape, file: file, path: here,
          "expected one threshold per exit (\(exits.count)), found \(p.thresholds.count)")
      }
      for (j, t) in p.thresholds.enumerated() {
        guard let t else { continue }
        guard t.isFinite else {
          throw AdaError(
            .nonFinite, file: file, path: "\(here)[\(j)]", "expected a threshold in [0, 1], found \(t)")
        }
        guard t >= 0, t <= 1 else {
          throw AdaError(
            .invalidValue, file: file, path: "\(here)[\(j)]", "expected a threshold in [0, 1], found \(t)")
        }
      }
    }
  }
}
