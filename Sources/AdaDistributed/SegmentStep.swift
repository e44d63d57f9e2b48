import AdaBundle
import AdaNN
import AdaProfile
import AdaTensor
import Foundation

/// When an input leaves: per graph output, the confidence threshold at which it leaves there
/// (nil: not an exit — the final output, or an exit the operating point does not use), scored
/// as the bundle's exit plan says (`ExitConfidence`).
public struct ExitRules: Codable, Hashable, Sendable {
  public var confidence: ExitConfidence
  /// Per operating point (the frame's `point` field picks one per task), one threshold per graph
  /// output in `graph.outputs` order; the final output's is nil.
  public var points: [[Float?]]
  /// Whether each output is already a probability vector (a softmax ends it).
  public var isProbability: [Bool]

  public init(confidence: ExitConfidence, points: [[Float?]], isProbability: [Bool]) {
    precondition(!points.isEmpty, "ExitRules: at least one operating point")
    self.confidence = confidence
    self.points = points
    self.isProbability = isProbability
  }

  public init(confidence: ExitConfidence, thresholds: [Float?], isProbability: [Bool]) {
    self.init(confidence: confidence, points: [thresholds], isProbability: isProbability)
  }

  /// The first operating point's thresholds.
  public var thresholds: [Float?] {
    get { points[0] }
    set { points[0] = newValue }
  }

  /// No early exits: every input reaches the final output.
  public static func none(outputs: Int) -> ExitRules {
    ExitRules(
      confidence: .maxSoftmax, thresholds: Array(repeating: nil, count: outputs),
      isProbability: Array(repeating: true, count: outputs))
  }

  /// Whether an output node ends in a softmax.
  public static func endsInSoftmax(_ node: Node) -> Bool {
    switch node.spec {
    case .softmax: true
    case .activation(let a): a == .softmax
    case .dense(let d): d.activation == .softmax
    default: false
    }
  }
}

/// What one segment does with one task.
public enum SegmentOutcome: Sendable {
  /// The task is answered here, at graph output `outputIndex` (an exit or the final output).
  case answered(outputIndex: Int, output: Tensor)
  /// The task goes on: the tensors to send, in `segment.sends` order.
  case forward([Tensor])
}

/// One segment with its weights and exit rules: the unit of work of the source and of each
/// worker, and of the single-process reference (`MDILocal`).
public struct SegmentStep: Sendable {
  public let runner: SegmentRunner
  public let parameters: Parameters
  public let rules: ExitRules
  /// Index of the graph's final output.
  public let finalOutput: Int

  public init(runner: SegmentRunner, parameters: Parameters, rules: ExitRules, finalOutput: Int) {
    self.runner = runner
    self.parameters = parameters
    self.rules = rules
    self.finalOutput = finalOutput
  }

  public var segment: Segment { runner.segment }

  /// Runs the segment on one task (`input` for the first segment, `received` in
  /// `segment.inputs` order otherwise) and decides: the first exit held here whose confidence
  /// reaches its threshold answers; the final output answers; otherwise the crossing tensors
  /// go on. Received tensors are checked (names, shapes, one batch); errors name the tensor.
  public func process(input: Tensor?, received: [Tensor], point: Int = 0) throws(AdaError) -> SegmentOutcome {
    guard rules.points.indices.contains(point) else {
      throw AdaError(
        .invalidValue, path: "frame.point",
        "operating point \(point) is not one of the \(rules.points.count) this chain was started with")
    }
    guard received.count == segment.inputs.count else {
      throw AdaError(
        .badShape, path: "segment \(segment.index)",
        "expected \(segment.inputs.count) tensors (\(segment.inputs.joined(separator: ", "))), found \(received.count)"
      )
    }
    let named = Dictionary(uniqueKeysWithValues: zip(segment.inputs, received))
    try runner.check(input: input, received: named)
    let (sends, outputs) = runner.run(input: input, received: named, parameters: parameters)
    for (o, output) in zip(segment.outputIndices, outputs) {
      if o == finalOutput { return .answered(outputIndex: o, output: output) }
      if let t = rules.points[point][o],
        rules.confidence.scores(output, isProbability: rules.isProbability[o]).allSatisfy({ $0 >= t })
      {
        return .answered(outputIndex: o, output: output)
      }
    }
    return .forward(segment.sends.map { sends[$0]! })
  }
}

/// A variant cut for a chain: the segments, the exit rules and where to find each segment's
/// weights and modelled device time.
public struct MDIDeployment: Sendable {
  public let chain: SegmentChain
  public let rules: ExitRules
  let model: Model
  let table: OpTable?

  public init(chain: SegmentChain, model: Model, rules: ExitRules, table: OpTable? = nil) {
    self.chain = chain
    self.model = model
    self.rules = rules
    self.table = table
  }

  /// Variant `variant` of `bundle` (its multi-exit file with `operatingPoint`'s exits, or the
  /// static file), cut after the nodes named in `cutAfter`.
  public static func load(bundle: ModelBundle, variant: String, operatingPoint: String?, cutAfter: [String])
    throws(AdaError) -> MDIDeployment
  {
    try load(
      bundle: bundle, variant: variant, operatingPoints: operatingPoint.map { [$0] } ?? [], cutAfter: cutAfter
    )
  }

  /// The same with several operating points, in the order tasks select them by index.
  public static func load(bundle: ModelBundle, variant: String, operatingPoints: [String], cutAfter: [String])
    throws(AdaError) -> MDIDeployment
  {
    let loaded = try MDIPlanning.loadGraph(bundle: bundle, variant: variant, operatingPoints: operatingPoints)
    let graph = loaded.model.graph
    let index = graph.indexByName
    var cuts: [Int] = []
    for name in cutAfter {
      guard let i = index[name] else {
        throw AdaError(
          .invalidValue, path: "--cut-after",
          "'\(name)' is not a node of \(graph.name) (run `adascale mdi plan … --cuts` to list the cut points)"
        )
      }
      cuts.append(i)
    }
    let chain = try SegmentChain(graph: graph, cuts: cuts)
    let points = (loaded.thresholds.isEmpty ? [[]] : loaded.thresholds).map { point in
      var thresholds = [Float?](repeating: nil, count: graph.outputs.count)
      for (j, t) in point.enumerated() { thresholds[j] = t }
      return thresholds
    }
    let confidence =
      operatingPoints.isEmpty ? ExitConfidence.maxSoftmax : try bundle.exitPlan(variant).confidence
    let rules = ExitRules(
      confidence: confidence, points: points,
      isProbability: graph.outputs.map { ExitRules.endsInSoftmax(graph.node(named: $0)!) })
    let tablePath = ModelBundle.path(bundle.directory, "ops-lut.json")
    let table = FileManager.default.fileExists(atPath: tablePath) ? try OpTable.load(path: tablePath) : nil
    return MDIDeployment(chain: chain, model: loaded.model, rules: rules, table: table)
  }

  /// Segment `k` with only its own weights.
  public func step(_ k: Int) throws(AdaError) -> SegmentStep {
    guard chain.segments.indices.contains(k) else {
      throw AdaError(
        .invalidValue, path: "--segment", "expected a segment in 0..<\(chain.segments.count), found \(k)")
    }
    let segment = chain.segments[k]
    return SegmentStep(
      runner: try SegmentRunner(segment: segment, graph: chain.graph),
      parameters: segment.parameters(from: model.parameters), rules: rules,
      finalOutput: chain.graph.outputs.count - 1)
  }

  /// Modelled batch-1 time of segment `k` on `device` (the planner's compute figure), ms.
  public func modelledMs(segment k: Int, device: DeviceProfile) throws(AdaError) -> Double {
    guard let table else {
      throw AdaError(.missing, path: "ops-lut.json", "pacing to a device needs the bundle's per-op table")
    }
    let costs = try NodeCosts.estimate(graph: chain.graph, table: table, device: device)
    let names = chain.segments[k].nodeNames
    let ms = zip(chain.graph.nodes, costs.nodeMs).filter { names.contains($0.0.name) }.reduce(0) { $0 + $1.1 }
    return ms + costs.segmentStartMs
  }
}

/// One answered task.
public struct TaskAnswer: Equatable, Sendable {
  public var outputIndex: Int
  /// The segment that answered.
  public var segment: Int
  public var output: Tensor

  public init(outputIndex: Int, segment: Int, output: Tensor) {
    self.outputIndex = outputIndex
    self.segment = segment
    self.output = output
  }
}

/// The single-process reference: every task through the segments in turn, one example per task,
/// no network. The distributed run with float32 features must give exactly these answers.
public enum MDILocal {
  /// `points[i]`: the operating point of task i (all 0 when nil).
  public static func run(_ deployment: MDIDeployment, inputs: Tensor, points: [Int]? = nil) throws(AdaError)
    -> [TaskAnswer]
  {
    let steps = try deployment.chain.segments.indices.map { (k) throws(AdaError) in try deployment.step(k) }
    var answers: [TaskAnswer] = []
    for i in 0..<inputs.shape[0] {
      var received: [Tensor] = []
      for (k, step) in steps.enumerated() {
        let input = k == 0 ? inputs.slice(batch: i..<(i + 1)) : nil
        switch try step.process(input: input, received: received, point: points?[i] ?? 0) {
        case .answered(let o, let output):
          answers.append(TaskAnswer(outputIndex: o, segment: k, output: output))
        case .forward(let tensors):
          received = tensors
          continue
        }
        break
      }
    }
    return answers
  }
}
