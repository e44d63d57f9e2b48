import AdaNN
import AdaTensor
import Foundation

extension OperatorChain {
  /// `apply(to:selecting:)` for a model that may carry quantized weights, keeping the
  /// quantized-weights table up to date through the steps: after each step the entries whose
  /// weight the step left exactly as it was survive (`stillMatching`), and a `quantize` step adds
  /// its own. `report.before/after.weightBytes` count the quantized weights at their bits.
  ///
  ///     let chain = OperatorChain([.init(LowRank(rank: .ratio(0.25))), .init(Quantize(bits: 8))])
  ///     let result = try chain.apply(to: model, quantized: [:], selecting: .all)
  ///     result.quantized.keys      // every Conv2D/Dense/DepthwiseConv2D kernel after low-rank
  public func apply(
    to model: Model, quantized: QuantizedWeights, selecting selection: LayerSelection
  ) throws(AdaError) -> CompressionResult {
    let initial = quantized.stillMatching(model)
    let ledger = QuantizedLedger(initial)
    let tracked = OperatorChain(
      steps.map { Step(QuantizedTracking(op: $0.op, ledger: ledger), selecting: $0.selection) })
    var result = try tracked.apply(to: model, selecting: selection)
    result.quantized = ledger.table
    result.report.before.weightBytes = model.weightBytes(quantized: initial)
    result.report.after.weightBytes = result.model.weightBytes(quantized: result.quantized)
    return result
  }
}

/// The table as it stands after each step of a chain (steps run one after another; the lock
/// only makes the class honestly `Sendable`).
final class QuantizedLedger: @unchecked Sendable {
  private let lock = NSLock()
  private var entries: QuantizedWeights

  init(_ table: QuantizedWeights) { entries = table }

  var table: QuantizedWeights { lock.withLock { entries } }

  func record(_ result: CompressionResult) {
    lock.withLock {
      entries = entries.stillMatching(result.model).merging(result.quantized) { _, new in new }
    }
  }
}

/// An operator that behaves exactly like `op` and records each result's table in `ledger`.
struct QuantizedTracking: CompressionOperator {
  static var id: String { "quantized-tracking" }
  let op: any CompressionOperator
  let ledger: QuantizedLedger

  var description: String { op.description }

  func isEligible(_ node: Node, in model: Model) -> Bool { op.isEligible(node, in: model) }

  func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    op.ineligibilityReason(node, in: model)
  }

  func apply(to model: Model, selecting selection: LayerSelection) throws(AdaError) -> CompressionResult {
    let result = try op.apply(to: model, selecting: selection)
    ledger.record(result)
    return result
  }
}
