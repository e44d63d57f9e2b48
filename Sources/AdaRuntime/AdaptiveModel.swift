import AdaBundle
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
  /// Minimum seconds between two monitor samples; decisions in between reuse the last context.
  public var sampleInterval: Double
  /// Compute threads (BLAS) the context's CPU share is computed for.
  public var threads: Int
  /// Upper bound on the weights of loaded variants, bytes (nil: no bound).
  public let memoryBudgetBytes: Int?
  public private(set) var lastSnapshot: ResourceSnapshot?
  public private(set) var lastContext = DeviceContext()

  struct Loaded {
    let model: Model
    let executor: Executor
    var lastUse: Int
  }
  private var loaded: [String: Loaded] = [:]
  private var uses = 0
  private var lastSampleTime: Double?

  /// Opens `bundle` with `policy`. `device` picks the LUT rows (default: the host).
  public init(
    bundle: ModelBundle, policy: Policy = Policy(), device: String? = nil,
    monitor: ResourceMonitor? = ResourceMonitor(), loading: Loading = .lazy, memoryBudgetBytes: Int? = nil,
    sampleInterval: Double = 0.05, threads: Int = BLAS.threads
  ) throws(AdaError) {
    self.bundle = bundle
    selector = VariantSelector(
      variants: try VariantProfile.profiles(from: bundle, device: device), policy: policy)
    self.monitor = monitor
    self.memoryBudgetBytes = memoryBudgetBytes
    self.sampleInterval = sampleInterval
    self.threads = threads
    if case .eager = loading {
      var used = 0
      for v in selector.variants.sorted(by: { $0.latencyMs < $1.latencyMs }) {
        if let budget = memoryBudgetBytes, used + v.weightBytes > budget, !loaded.isEmpty { continue }
        _ = try swap(to: v.id)
        used += v.weightBytes
      }
    }
  }

  /// Opens the bundle directory at `path` (see `ModelBundle.open`).
  public convenience init(
    bundle path: String, policy: Policy = Policy(), device: String? = nil,
    monitor: ResourceMonitor? = ResourceMonitor(), loading: Loading = .lazy, memoryBudgetBytes: Int? = nil
  ) throws(AdaError) {
    try self.init(
      bundle: ModelBundle.open(path), policy: policy, device: device, monitor: monitor, loading: loading,
      memoryBudgetBytes: memoryBudgetBytes)
  }

  /// The policy in force (changing it keeps the learned corrections).
  public var policy: Policy {
    get { selector.policy }
    set { selector.policy = newValue }
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
    let outputs = variant.executor.predict(input, parameters: variant.model.parameters)
    let measured = (ResourceMonitor.monotonicSeconds() - start) * 1e3
    selector.record(decision, measuredMs: measured)
    return AdaptiveResult(
      outputs: outputs, decision: decision, measuredLatencyMs: measured, loadMs: loadMs, context: lastContext)
  }

  /// Samples the context (at most every `sampleInterval` s) and asks the selector; runs nothing.
  public func decide() -> Decision {
    if var m = monitor {
      let now = m.clock()
      if lastSampleTime.map({ now - $0 >= sampleInterval }) ?? true {
        let s = m.sample()
        lastSnapshot = s
        lastContext = s.deviceContext(threads: threads)
        lastSampleTime = now
        monitor = m
      }
    } else {
      lastContext = fixedContext
    }
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
    let (model, _) = try bundle.loadVariant(id)
    let file = try bundle.variantPath(id)
    let executor: Executor
    do {
      executor = try Executor(graph: model.graph)
    } catch {
      throw error.inFile(file)
    }
    if let other = loaded.values.first,
      !Self.sameKind(other.model.graph.inputShape, model.graph.inputShape)
    {
      throw AdaError(
        .badShape, file: file, path: model.graph.input.name,
        "variant '\(id)' takes inputs of shape \(model.graph.inputShape), other variants of the bundle "
          + "take \(other.model.graph.inputShape)")
    }
    if let budget = memoryBudgetBytes {
      let need = selector.variants.first { $0.id == id }?.weightBytes ?? 0
      while !loaded.isEmpty, bytesLoaded + need > budget,
        let lru = loaded.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
      {
        loaded[lru] = nil
      }
    }
    _ = executor.predict(Tensor.zeros([1] + model.graph.inputShape), parameters: model.parameters)
    let v = Loaded(model: model, executor: executor, lastUse: uses)
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

  private var bytesLoaded: Int {
    selector.variants.filter { loaded[$0.id] != nil }.reduce(0) { $0 + $1.weightBytes }
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

  /// The first output: `[N, classes]` for a classifier.
  public var output: Tensor { outputs[0] }
}
