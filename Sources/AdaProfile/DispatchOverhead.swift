import AdaNN
import AdaTensor

/// What a node costs inside `Executor.predict` beyond its op timed alone in a hot loop (the
/// *context* terms of the estimator, docs/profiler.md §3):
///
///     context(node) = perNodeMs + perParameterMs · parameterTensors + perWeightByteMs · weightBytes
///     context(input node) = perModelMs
///
/// - `perNodeMs`: dispatch (building the input array, storing and freeing activations) plus
///   what a heterogeneous graph costs that a hot loop of one op does not: each kind's code and
///   branch history evicted by the kinds before it.
/// - `perParameterMs`: gathering one parameter tensor by its `node/name` key.
/// - `perWeightByteMs`: the op's weights arriving from a colder cache level, because the nodes
///   in between evicted them (alone, the same weights are read on every call and stay hot).
///   A memory term: devices scale it by bandwidth, the others by clock.
/// - `perModelMs`: starting `predict` (the values array, the context), charged to the input node.
///
/// Measured once per machine fingerprint by `calibrate` (DispatchOverhead+Calibration.swift).
public struct DispatchOverhead: Codable, Hashable, Sendable {
  public var perNodeMs: Double
  public var perParameterMs: Double
  public var perWeightByteMs: Double
  public var perModelMs: Double

  public init(
    perNodeMs: Double, perParameterMs: Double, perWeightByteMs: Double = 0, perModelMs: Double = 0
  ) {
    self.perNodeMs = perNodeMs
    self.perParameterMs = perParameterMs
    self.perWeightByteMs = perWeightByteMs
    self.perModelMs = perModelMs
  }

  public static let zero = DispatchOverhead(perNodeMs: 0, perParameterMs: 0)

  /// Dispatch part of one node's context (clock-bound): `perModelMs` for the graph input, else
  /// `perNodeMs + perParameterMs · parameterTensors`.
  public func ms(parameterTensors: Int, isInput: Bool = false) -> Double {
    isInput ? perModelMs : perNodeMs + perParameterMs * Double(parameterTensors)
  }

  /// Memory part of one node's context: its float32 weights re-read from a colder cache.
  public func weightMs(bytes: Int) -> Double { perWeightByteMs * Double(bytes) }

  /// Dispatch and memory parts of `op`'s context. The weights are counted as float32 (the
  /// kernels that run are float32 whatever the key's bit width).
  public func context(of op: GraphOp) -> (dispatchMs: Double, weightMs: Double) {
    if op.spec.isInput { return (perModelMs, 0) }
    return (ms(parameterTensors: op.parameterTensors), weightMs(bytes: 4 * op.work.params))
  }

  enum CodingKeys: String, CodingKey {
    case perNodeMs = "per_node_ms"
    case perParameterMs = "per_parameter_ms"
    case perWeightByteMs = "per_weight_byte_ms"
    case perModelMs = "per_model_ms"
  }

  /// Tables written before the weight and model terms existed read them as 0.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    perNodeMs = try c.decode(Double.self, forKey: .perNodeMs)
    perParameterMs = try c.decode(Double.self, forKey: .perParameterMs)
    perWeightByteMs = try c.decodeIfPresent(Double.self, forKey: .perWeightByteMs) ?? 0
    perModelMs = try c.decodeIfPresent(Double.self, forKey: .perModelMs) ?? 0
  }
}
