import AdaNN
import AdaProfile
import AdaTensor

/// Each node's batch-1 latency on one device, from the per-op table a bundle ships
/// (`ops-lut.json`, docs/profiler.md §4) and the device's roofline model:
///
///     node_ms = op_ms(device) + dispatch_ms · clock ratio + weight re-read ms · bandwidth ratio
///
/// `op_ms(device)`: the table's row for (signature, device) when it has one; else the host row
/// scaled by the device's roofline factor (`DeviceModel`); else the host roofline bound for the
/// op's work, scaled the same way (marked `modelled`). The input node's context is the per-model
/// start (`perModelMs`), which every segment pays once: `segmentStartMs`.
public struct NodeCosts: Sendable {
  public var device: String
  /// Per node of the graph, in node order, ms.
  public var nodeMs: [Double]
  /// Starting one `predict` (each segment pays it once), ms.
  public var segmentStartMs: Double
  /// Nodes whose op had no table row on this device or the host (roofline fallback).
  public var fallbackNodes: [String]

  public init(device: String, nodeMs: [Double], segmentStartMs: Double, fallbackNodes: [String] = []) {
    self.device = device
    self.nodeMs = nodeMs
    self.segmentStartMs = segmentStartMs
    self.fallbackNodes = fallbackNodes
  }

  /// Costs of `graph`'s nodes on `device`, from `table`.
  public static func estimate(graph: Graph, table: OpTable, device: DeviceProfile) throws(AdaError)
    -> NodeCosts
  {
    let ops = try graph.profiledOps()
    let model = DeviceModel(device: device, host: table.host, threads: table.probe.threads)
    var hostRows: [String: OpTable.Row] = [:]
    var deviceRows: [String: OpTable.Row] = [:]
    for row in table.rows {
      if row.device == "host" { hostRows[row.key] = row }
      if row.device == device.name { deviceRows[row.key] = row }
    }
    var nodeMs: [Double] = []
    var fallback: [String] = []
    var start = 0.0
    for op in ops {
      let context = table.overhead.context(of: op)
      let contextMs = model.overheadMs(context.dispatchMs) + model.weightMs(context.weightMs)
      if op.spec.isInput {
        start = contextMs
        nodeMs.append(0)
        continue
      }
      let opMs: Double
      if let row = deviceRows[op.signature.key] {
        opMs = row.meanMs
      } else if let row = hostRows[op.signature.key] {
        opMs =
          model.opLatency(
            host: LatencyStats(count: row.count, meanMs: row.meanMs, varianceMs2: 0), work: op.work
          )
          .meanMs
      } else {
        fallback.append(op.node)
        opMs =
          model.opLatency(host: LatencyEstimator.roofline(op.work, host: table.host), work: op.work).meanMs
      }
      nodeMs.append(opMs + contextMs)
    }
    return NodeCosts(device: device.name, nodeMs: nodeMs, segmentStartMs: start, fallbackNodes: fallback)
  }
}
