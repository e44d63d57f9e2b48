import AdaBundle
import AdaCore
import AdaIO
import AdaNN
import AdaProfile
import AdaTensor
import Foundation

/// A bundle that runs whichever variant suits the moment: each `predict` samples the resources
/// (rate-limited), lets the `VariantSelector` decide, runs the chosen variant and feeds the
/// measured latency back into the selector (docs/runtime.md).
///
///     let model = try AdaptiveModel(bundle: "out/fmnist-bundle", policy: Policy(sloMs: 2))
///     let r = try model.predict(x)                 // x: [N, 28, 28, 1]
///     print(r.decision.variant, r.decision.reason, r.measuredLatencyMs)
///     let probabilities = r.output                 // [N, 10]
///
/// Variants are read from the bundle on first use (`.lazy`) or up front (`.eager`); with a
/// memory budget, the least recently used variants are dropped to make room. Not thread-safe:
/// use one instance per thread.
///
/// With early exits (`exits` not `.off`), a variant that has an exit plan is read from its
/// multi-exit file and run per input by `ExitExecutor` at the thresholds of the operating point
/// the selector chose (none: the variant's own output only); the result says which exit each
/// input took and what it cost in MACs.
public final class AdaptiveModel {
  /// When variants are read from disk.
  public enum Loading: Sendable {
    /// On first use.
    case lazy
    /// All at `init`, fastest first, as many as the memory budget allows (the rest lazily).
    case eager
  }

  public let bundle: ModelBundle
  public internal(set) var selector: VariantSelector
  /// Where contexts come from; nil: `fixedContext` is used (tests, replay).
  public var monitor: ResourceMonitor?
  /// The context used when there is no monitor.
  public var fixedContext = DeviceContext()
  /// Applied to every context before the selector sees it (nil: none); a live replay uses it
  /// to inject the trace's clock, battery and thermal state and to shift measured memory into
  /// the emulated device's window (`LiveReplay`).
  public var adjustContext: ((DeviceContext) -> DeviceContext)?
  /// Minimum seconds between two monitor samples; decisions in between reuse the last context.
  public var sampleInterval: Double
  /// Compute threads (BLAS) the context's CPU share is computed for.
  public var threads: Int
  /// Upper bound on the weights of loaded variants, bytes (nil: no bound).
  public let memoryBudgetBytes: Int?
  /// Whether and how early exits are used (change with `setExits`).
  public private(set) var exits: ExitMode
  /// The device whose LUT rows the selector uses.
  public let device: String?
  /// The one variant the selector may choose (with its operating points); nil: any.
  public let only: String?
  public private(set) var lastSnapshot: ResourceSnapshot?
  public private(set) var lastContext = DeviceContext()

  struct Loaded {
    let model: Model
    let executor: Executor
    /// The variant's exit plan and its multi-exit model's executor, when exits are used.
    let exitPlan: Manifest.ExitPlan?
    let exitExecutor: ExitExecutor?
    /// MACs of one input through the static variant.
    let macs: Int
    var lastUse: Int
  }
  private var loaded: [String: Loaded] = [:]
  private var uses = 0
  private var lastSampleTime: Double?
  /// The monitor's latest context, before `adjustContext`.
  private var sampledContext = DeviceContext()

  /// Opens `bundle` with `policy`. `device` picks the LUT rows (default: the host); `exits`
  /// whether early exits are used (`.auto`: as candidates of the selector; see `ExitMode`).
  public init(
    bundle: ModelBundle, policy: Policy = Policy(), device: String? = nil,
    monitor: ResourceMonitor? = ResourceMonitor(), loading: Loading = .lazy, memoryBudgetBytes: Int? = nil,
    sampleInterval: Double = 0.05, threads: Int = BLAS.threads, exits: ExitMode = .auto, only: String? = nil
  ) throws(AdaError) {
    self.bundle = bundle
    selector = VariantSelector(
      variants: try Self.fitting(
        VariantProfile.profiles(from: bundle, device: device, exits: exits, only: only),
        budget: memoryBudgetBytes, bundle: bundle),
      policy: policy)
    self.only = only
    self.monitor = monitor
    self.memoryBudgetBytes = memoryBudgetBytes
    self.sampleInterval = sampleInterval
    self.threads = threads
    self.exits = exits
    self.device = device
    if case .eager = loading {
      var used = 0
      var seen = Set<String>()
      for v in selector.variants.sorted(by: { $0.latencyMs < $1.latencyMs }) where seen.insert(v.id).inserted
      {
        if let budget = memoryBudgetBytes, used + v.weightBytes > budget { continue }
        _ = try swap(to: v.id)
        used += v.weightBytes
      }
    }
  }

  /// Opens the bundle directory at `path` (see `ModelBundle.open`).
  public convenience init(
    bundle path: String, policy: Policy = Policy(), device: String? = nil,
    monitor: ResourceMonitor? = ResourceMonitor(), loading: Loading = .lazy, memoryBudgetBytes: Int? = nil,
    exits: ExitMode = .auto, only: String? = nil
  ) throws(AdaError) {
    try self.init(
      bundle: ModelBundle.open(path), policy: policy, device: device, monitor: monitor, loading: loading,
      memoryBudgetBytes: memoryBudgetBytes, exits: exits, only: only)
  }

  /// The policy in force (changing it keeps the learned corrections).
  public var policy: Policy {
    get { selector.policy }
    set { selector.policy = newValue }
  }

  /// Switches the early-exit mode at run time: the selector gets the candidates of `mode`
  /// (keeping the policy; the current choice and the learned corrections start afresh), and
  /// when exits are turned on or off the loaded variants are dropped (they are read from other
  /// files). Throws, leaving everything as it was, when the bundle cannot honour `mode`.
  public func setExits(_ mode: ExitMode) throws(AdaError) {
    guard mode != exits else { return }
    let profiles = try Self.fitting(
      VariantProfile.profiles(from: bundle, device: device, exits: mode, only: only),
      budget: memoryBudgetBytes, bundle: bundle)
    selector = VariantSelector(variants: profiles, policy: selector.policy)
    if (mode == .off) != (exits == .off) { loaded = [:] }
    exits = mode
  }

  /// Ids of the variants in memory.
  public var loadedVariants: [String] { loaded.keys.sorted() }

  /// Runs one batch on the variant the selector picks for the current context.
  /// - Parameter x: `[N] + input shape` of the bundle's models. A variant that takes smaller
  ///   images (elastic resolution) gets them resized (bilinear, as Keras' `image.resize`),
  ///   inside the measured time.
  public func predict(_ x: Tensor) throws(AdaError) -> AdaptiveResult {
    let n = x.shape.first ?? 1
    if selector.policy.batch != n { selector.policy.batch = max(n, 1) }
    let decision = decide()
    let loadStart = ResourceMonitor.monotonicSeconds()
    let wasLoaded = loaded[decision.variant] != nil
    let variant = try swap(to: decision.variant)
    let loadMs = wasLoaded ? nil : (ResourceMonitor.monotonicSeconds() - loadStart) * 1e3
    let start = ResourceMonitor.monotonicSeconds()
    let input = Self.fitting(x, to: variant.model.graph.inputShape)
    try variant.executor.checkInput(input)
    var result: AdaptiveResult
    if let exec = variant.exitExecutor, let plan = variant.exitPlan {
      let thresholds =
        decision.operatingPoint.flatMap { plan.operatingPoint(named: $0)?.thresholds } ?? plan.noExits
      let r = try exec.predict(input, parameters: variant.model.parameters, thresholds: thresholds)
      let measured = (ResourceMonitor.monotonicSeconds() - start) * 1e3
      let macs = (0...plan.exits.count).map { plan.macs(exit: $0, thresholds: thresholds) }
      result = AdaptiveResult(
        outputs: [r.output], decision: decision, measuredLatencyMs: measured, loadMs: loadMs,
        context: lastContext,
        exitIndices: r.exitIndices, exitCount: plan.exits.count, macsPerInput: r.exitIndices.map { macs[$0] })
    } else {
      let outputs = variant.executor.predict(input, parameters: variant.model.parameters)
      let measured = (ResourceMonitor.monotonicSeconds() - start) * 1e3
      result = AdaptiveResult(
        outputs: outputs, decision: decision, measuredLatencyMs: measured, loadMs: loadMs,
        context: lastContext,
        macsPerInput: Array(repeating: variant.macs, count: input.shape.first ?? 0))
    }
    selector.record(decision, measuredMs: result.measuredLatencyMs)
    return result
  }

  /// Samples the context (at most every `sampleInterval` s) and asks the selector; runs nothing.
  public func decide() -> Decision {
    if var m = monitor {
      let now = m.clock()
      if lastSampleTime.map({ now - $0 >= sampleInterval }) ?? true {
        let s = m.sample()
        lastSnapshot = s
        sampledContext = s.deviceContext(threads: threads)
        lastSampleTime = now
        monitor = m
      }
      lastContext = sampledContext
    } else {
      lastContext = fixedContext
    }
    if let adjust = adjustContext { lastContext = adjust(lastContext) }
    return selector.select(lastContext)
  }

  /// Makes variant `id` ready to run, reading it if needed (and evicting least recently used
  /// variants beyond the memory budget). Loading runs the model once on zeros so that the first
  /// timed call is warm.
  @discardableResult
  func swap(to id: String) throws(AdaError) -> Loaded {
    uses += 1
    if var v = loaded[id] {
      v.lastUse = uses
      loaded[id] = v
      return v
    }
    let entry = try bundle.variant(id)
    if let budget = memoryBudgetBytes {
      // Make room before reading, so that the weights held never exceed the budget, not even
      // while the new variant is read (`fitting` keeps every candidate within it on its own).
      var evicted = false
      while !loaded.isEmpty, bytesLoaded + entry.weightBytes > budget,
        let lru = loaded.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
      {
        loaded[lru] = nil
        evicted = true
      }
      // The CLI keeps freed memory in the heap (`Memory.configureAllocator`): give the dropped
      // weights back to the kernel, or the process would still hold them.
      if evicted { Memory.returnFreeMemory() }
    }
    peakWeightBytes = max(peakWeightBytes, bytesLoaded + entry.weightBytes)
    let plan = exits == .off ? nil : entry.exits
    let model: Model
    let file: String
    let executor: Executor
    var exitExecutor: ExitExecutor?
    if plan != nil {
      let (exitModel, _, plan) = try bundle.loadExitVariant(id)
      model = exitModel
      file = ModelBundle.path(bundle.directory, plan.file)
      do {
        let exec = try ExitExecutor(
          graph: model.graph, exits: plan.exits.map(\.output), confidence: plan.confidence)
        exitExecutor = exec
        executor = exec.executor
      } catch {
        let i = bundle.manifest.variants.firstIndex { $0.id == id }!
        throw AdaError(
          error.kind, file: ModelBundle.path(bundle.directory, ModelBundle.manifestFile),
          path: "variants[\(i)].exits" + (error.path.map { ".\($0)" } ?? ""), "\(plan.file): \(error.message)"
        )
      }
    } else {
      (model, _) = try bundle.loadVariant(id)
      file = try bundle.variantPath(id)
      do {
        executor = try Executor(graph: model.graph)
      } catch {
        throw error.inFile(file)
      }
    }
    if let other = loaded.values.first,
      !Self.sameKind(other.model.graph.inputShape, model.graph.inputShape)
    {
      throw AdaError(
        .badShape, file: file, path: model.graph.input.name,
        "variant '\(id)' takes inputs of shape \(model.graph.inputShape), other variants of the bundle "
          + "take \(other.model.graph.inputShape)")
    }
    _ = executor.predict(Tensor.zeros([1] + model.graph.inputShape), parameters: model.parameters)
    let v = Loaded(
      model: model, executor: executor, exitPlan: exitExecutor == nil ? nil : plan,
      exitExecutor: exitExecutor,
      macs: entry.macs, lastUse: uses)
    loaded[id] = v
    return v
  }

  /// `x` resized to a variant's image size when only the height and width differ.
  static func fitting(_ x: Tensor, to inputShape: [Int]) -> Tensor {
    guard x.rank == 4, inputShape.count == 3, Array(x.shape.dropFirst()) != inputShape,
      x.shape[3] == inputShape[2]
    else { return x }
    return ImageResize(height: inputShape[0], width: inputShape[1]).resizing(x)
  }

  /// Equal shapes, or images that differ only in height and width (elastic resolution).
  static func sameKind(_ a: [Int], _ b: [Int]) -> Bool {
    a == b || (a.count == 3 && b.count == 3 && a[2] == b[2])
  }

  /// The candidates whose weights fit `budget` on their own (all of them without a budget).
  /// None fitting is an error naming the budget and the smallest variant: running over the
  /// budget, or running nothing, would both be wrong.
  static func fitting(_ profiles: [VariantProfile], budget: Int?, bundle: ModelBundle) throws(AdaError)
    -> [VariantProfile]
  {
    guard let budget else { return profiles }
    let fit = profiles.filter { $0.weightBytes <= budget }
    guard fit.isEmpty, let smallest = profiles.min(by: { $0.weightBytes < $1.weightBytes }) else {
      return fit
    }
    throw AdaError(
      .invalidValue, file: ModelBundle.path(bundle.directory, ModelBundle.manifestFile),
      path: "memory budget",
      "a memory budget of \(MemoryBudget.format(budget)) is smaller than any variant's weights: the "
        + "smallest, '\(smallest.id)', needs \(MemoryBudget.format(smallest.weightBytes))",
      hint: "give a budget of at least \(MemoryBudget.format(smallest.weightBytes))")
  }

  /// The most variant weight the model has held at once (bytes, as the manifest states them),
  /// counting a variant being read; never above `memoryBudgetBytes`.
  public private(set) var peakWeightBytes = 0

  private var bytesLoaded: Int {
    bundle.manifest.variants.filter { loaded[$0.id] != nil }.reduce(0) { $0 + $1.weightBytes }
  }
}

/// What `AdaptiveModel.predict` returns.
public struct AdaptiveResult: Sendable {
  /// The variant's outputs, in its graph's output order.
  public var outputs: [Tensor]
  public var decision: Decision
  /// Wall time of the forward pass, ms.
  public var measuredLatencyMs: Double
  /// Time spent reading the variant from the bundle, when this call had to (ms).
  public var loadMs: Double?
  /// The context the decision was made in.
  public var context: DeviceContext
  /// Per input, the exit it left at (`exitCount`: the final output); nil when the variant ran
  /// without its exit plan.
  public var exitIndices: [Int]?
  /// Exits of the plan that ran (nil without one).
  public var exitCount: Int?
  /// Per input, the MACs it cost: the static variant's, or with exits the backbone up to the
  /// exit it took plus the heads of the enabled exits up to there
  /// (`Manifest.ExitPlan.macs(exit:thresholds:)`).
  public var macsPerInput: [Int]

  public init(
    outputs: [Tensor], decision: Decision, measuredLatencyMs: Double, loadMs: Double?, context: DeviceContext,
    exitIndices: [Int]? = nil, exitCount: Int? = nil, macsPerInput: [Int] = []
  ) {
    self.outputs = outputs
    self.decision = decision
    self.measuredLatencyMs = measuredLatencyMs
    self.loadMs = loadMs
    self.context = context
    self.exitIndices = exitIndices
    self.exitCount = exitCount
    self.macsPerInput = macsPerInput
  }

  /// The first output: `[N, classes]` for a classifier.
  public var output: Tensor { outputs[0] }

  /// Inputs per exit, the final output last (nil without exits).
  public var exitHistogram: [Int]? {
    guard let exitIndices, let exitCount else { return nil }
    var h = [Int](repeating: 0, count: exitCount + 1)
    for e in exitIndices { h[e] += 1 }
    return h
  }
}
