import AdaTensor

/// Which roof limits an op on a device.
public enum OpBound: String, Codable, Hashable, Sendable {
  /// Arithmetic intensity at or above the device's ridge point: scales with peak FLOP/s.
  case compute
  /// Below the ridge point: scales with memory bandwidth.
  case memory
  /// Moves no data (aliasing ops) or is the executor's dispatch: scales with clock.
  case overhead
}

/// Scales host-measured op times to a device, roofline style.
///
/// For an op with arithmetic intensity `I = flops / bytesMoved` and the device's ridge point
/// `R = peak_dev / bandwidth_dev` (FLOPs per byte):
///
///     t_dev = t_host · peak_host / peak_dev            if I ≥ R   (compute-bound)
///     t_dev = t_host · bandwidth_host / bandwidth_dev  if I < R   (memory-bound)
///     t_dev = t_host · clock_host / clock_dev          if the op moves no data, and for the
///                                                      executor's per-node dispatch overhead
///
/// Device peak is `peak_gflops_per_core · min(threads, cores)`; the host's comes from the sgemm
/// probe with the same thread count. The host itself scales by 1.
public struct DeviceModel: Sendable {
  public let device: DeviceProfile
  public let host: HostMeasurements
  public let threads: Int

  public init(device: DeviceProfile, host: HostMeasurements, threads: Int) {
    self.device = device
    self.host = host
    self.threads = threads
  }

  /// Timings on this device are the host's own measurements.
  public var isHost: Bool { device.measured }

  public var peakGflops: Double {
    isHost
      ? host.peakGflops : device.peakGflopsPerCore! * Double(min(threads, device.cores))
  }

  public var bandwidthGBs: Double { isHost ? host.bandwidthGBs : device.memoryBandwidthGBs! }

  /// FLOPs per byte at which the device's compute and memory roofs meet.
  public var ridge: Double { peakGflops / bandwidthGBs }

  /// Host clock / device clock (1 for the host, or when a clock is unknown).
  public var clockRatio: Double {
    guard !isHost, let h = host.clockGHz, let d = device.clockGHz else { return 1 }
    return h / d
  }

  public func bound(_ work: OpWork) -> OpBound {
    if work.bytesMoved == 0 { return .overhead }
    return work.arithmeticIntensity >= ridge ? .compute : .memory
  }

  /// Factor applied to the host time of an op with this work.
  public func factor(_ work: OpWork) -> Double {
    if isHost { return 1 }
    switch bound(work) {
    case .compute: return host.peakGflops / peakGflops
    case .memory: return host.bandwidthGBs / bandwidthGBs
    case .overhead: return clockRatio
    }
  }

  /// The op's latency on this device (variance scales with the factor squared).
  public func opLatency(host stats: LatencyStats, work: OpWork) -> LatencyStats {
    var s = stats.scaled(by: factor(work))
    if !isHost { s.count = 0 }
    return s
  }

  /// The executor's dispatch overhead on this device.
  public func overheadMs(_ hostMs: Double) -> Double { hostMs * clockRatio }

  /// The weight re-read term of the context on this device (memory-bound: bandwidth ratio).
  public func weightMs(_ hostMs: Double) -> Double {
    isHost ? hostMs : hostMs * host.bandwidthGBs / bandwidthGBs
  }

  /// Latency of a whole model on this device at nominal context: Σ (op · factor + dispatch ·
  /// clock ratio + weight re-reads · bandwidth ratio), with variances scaled and summed.
  public func modelLatency(ops: [GraphOp], terms: [LatencyEstimator.Term]) -> LatencyStats {
    var total = LatencyStats.zero
    for (op, term) in zip(ops, terms) {
      let s = opLatency(host: term.op, work: op.work)
      total.meanMs += s.meanMs + overheadMs(term.overheadMs) + weightMs(term.weightMs)
      total.varianceMs2 += s.varianceMs2
    }
    return total
  }
}
