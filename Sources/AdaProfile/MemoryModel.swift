import AdaNN
import AdaTensor

/// Memory one inference needs, in bytes.
public struct MemoryEstimate: Codable, Hashable, Sendable {
  public var batch: Int
  /// Every parameter at its bit width (`params · bits / 8`).
  public var weightBytes: Int
  /// Most activation bytes alive at once under the executor's schedule.
  public var peakActivationBytes: Int
  /// Most activation plus transient workspace bytes at once (im2col columns and the like).
  public var peakWorkingBytes: Int
  /// Index (node order) of the step where `peakWorkingBytes` is reached.
  public var peakStep: Int

  /// Weights plus the working peak: what must fit in memory.
  public var peakBytes: Int

  public init(
    batch: Int, weightBytes: Int, peakActivationBytes: Int, peakWorkingBytes: Int, peakStep: Int
  ) {
    self.batch = batch
    self.weightBytes = weightBytes
    self.peakActivationBytes = peakActivationBytes
    self.peakWorkingBytes = peakWorkingBytes
    self.peakStep = peakStep
    peakBytes = weightBytes + peakWorkingBytes
  }

  enum CodingKeys: String, CodingKey {
    case batch
    case weightBytes = "weight_bytes"
    case peakActivationBytes = "peak_activation_bytes"
    case peakWorkingBytes = "peak_working_bytes"
    case peakStep = "peak_step"
    case peakBytes = "peak_bytes"
  }
}

/// Replays `Executor.predict`'s schedule to find peak memory.
///
/// Nodes run in order. Node `i` creates its output buffer at step `i` — or, when it aliases its
/// input (input, flatten, reshape, dropout at inference, linear activation), shares that
/// input's buffer. A buffer is freed after the last step that reads any of its aliases (graph
/// outputs live to the end), exactly the executor's `lastUse` rule; during step `i` the node's
/// inputs and its output are both alive, plus its transient workspace. The graph input counts
/// from step 0 until its last reader.
public enum MemoryModel {
  public static func estimate(
    graph: Graph, batch: Int = 1, bits: [String: Int] = [:], defaultBits: Int = 32
  ) throws(AdaError) -> MemoryEstimate {
    precondition(batch >= 1, "MemoryModel: batch must be at least 1")
    let ops = try graph.profiledOps(bits: bits, defaultBits: defaultBits)
    let index = graph.indexByName
    let n = ops.count
    // Buffer of each node's output: its own index, or the buffer of the input it aliases.
    var buffer = Array(0..<n)
    for (i, node) in graph.nodes.enumerated() where ops[i].work.aliasesInput {
      if let first = node.inputs.first, let j = index[first] { buffer[i] = buffer[j] }
    }
    var lastUse = Array(0..<n)
    for (i, node) in graph.nodes.enumerated() {
      for input in node.inputs { if let j = index[input] { lastUse[j] = max(lastUse[j], i) } }
    }
    for o in graph.outputs { if let j = index[o] { lastUse[j] = n } }
    // Each buffer dies at the last use of any of its aliases.
    var death = [Int](repeating: -1, count: n)
    for i in 0..<n { death[buffer[i]] = max(death[buffer[i]], lastUse[i]) }

    var peakActivation = 0
    var peakWorking = 0
    var peakStep = 0
    for step in 0..<n {
      var live = 0
      for b in 0..<n where buffer[b] == b && b <= step && death[b] >= step {
        live += ops[b].work.outputBytes * batch
      }
      let working = live + ops[step].work.workspaceBytes * batch
      peakActivation = max(peakActivation, live)
      if working > peakWorking { (peakWorking, peakStep) = (working, step) }
    }
    return MemoryEstimate(
      batch: batch, weightBytes: ops.reduce(0) { $0 + $1.work.weightBytes },
      peakActivationBytes: peakActivation, peakWorkingBytes: peakWorking, peakStep: peakStep)
  }
}
