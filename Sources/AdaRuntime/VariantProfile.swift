import AdaBundle
import AdaProfile
import AdaTensor

/// What the selector knows about one variant, taken from the bundle's manifest and lookup table
/// for one device. Latency and energy are batch-1 figures; `latency(in:batch:)` and
/// `memoryBytes(batch:)` apply a context and a batch size.
///
/// With early exits, one variant gives several profiles: itself (`operatingPoint` nil) and one
/// per operating point of its exit plan (`profiles(from:device:exits:)`).
public struct VariantProfile: Codable, Hashable, Sendable {
  public var id: String
  /// The exit plan's operating point this candidate runs at; nil: the variant without early
  /// exits.
  public var operatingPoint: String?
  /// Test accuracy, 0–1.
  public var accuracy: Double
  /// Batch-1 latency at the nominal context (full CPU share, full clock): the LUT's `measured`
  /// row for the host, else the manifest's measured `latency_ms`.
  public var latencyMs: Double
  /// Weights as stored, bytes.
  public var weightBytes: Int
  /// Weights + peak live activations at batch 1, bytes.
  public var peakMemoryBytes: Int
  /// Modelled batch-1 energy (mJ) per LUT context of this device; `energyMj(in:)` picks the
  /// nearest. Never empty (the manifest's figure stands in for the nominal context).
  public var energyByContext: [ContextEnergy]

  public struct ContextEnergy: Codable, Hashable, Sendable {
    public var context: DeviceContext
    public var energyMj: Double
    public init(context: DeviceContext, energyMj: Double) {
      self.context = context
      self.energyMj = energyMj
    }
  }

  public init(
    id: String, accuracy: Double, latencyMs: Double, weightBytes: Int, peakMemoryBytes: Int,
    energyMj: Double
  ) {
    self.id = id
    self.accuracy = accuracy
    self.latencyMs = latencyMs
    self.weightBytes = weightBytes
    self.peakMemoryBytes = peakMemoryBytes
    energyByContext = [ContextEnergy(context: DeviceContext(), energyMj: energyMj)]
  }

  /// `v3`, or `v3@drop-0.5` for an operating point: how reasons and reports name the candidate.
  public var label: String { operatingPoint.map { "\(id)@\($0)" } ?? id }

  /// Context-scaled latency of one call on `batch` examples, before feedback correction: the
  /// nominal latency × batch ÷ (cpu share × frequency scale × thermal clock factor), the same
  /// rule as `DeviceEstimate` (AdaProfile). Linear in the batch: an over-estimate for large
  /// batches that the selector's feedback corrects.
  public func latencyMs(in context: DeviceContext, batch: Int = 1) -> Double {
    latencyMs * Double(batch) / (context.cpuShare * context.effectiveClock)
  }

  /// Weights once plus activations per example: `weights + (peak − weights) × batch`.
  public func memoryBytes(batch: Int = 1) -> Int {
    weightBytes + max(peakMemoryBytes - weightBytes, 0) * batch
  }

  /// Energy of one batch-1 inference from the LUT row whose context is nearest to `context`
  /// (distance |Δ cpu share| + |Δ effective clock|).
  public func energyMj(in context: DeviceContext) -> Double {
    func distance(_ c: DeviceContext) -> Double {
      abs(c.cpuShare - context.cpuShare) + abs(c.effectiveClock - context.effectiveClock)
    }
    return energyByContext.min { distance($0.context) < distance($1.context) }!.energyMj
  }

  /// One profile per manifest variant, in manifest order, for `device` (default: the first of
  /// the manifest's devices, the host). Fails when the device has no LUT rows and is not the
  /// host (the manifest's figures are host measurements).
  public static func profiles(from bundle: ModelBundle, device: String? = nil) throws(AdaError)
    -> [VariantProfile]
  {
    let m = bundle.manifest
    let host = m.devices.first ?? "host"
    let device = device ?? host
    let deviceRows = bundle.lut.rows.filter { $0.device == device }
    guard device == host || !deviceRows.isEmpty else {
      throw AdaError(
        .invalidValue, file: ModelBundle.path(bundle.directory, ModelBundle.lutFile), path: "rows",
        "no rows for device '\(device)'; devices: \(m.devices.joined(separator: ", "))")
    }
    return m.variants.map { v in
      let rows = deviceRows.filter { $0.variant == v.id }
      let contexts = rows.compactMap { row in bundle.context(named: row.context).map { (row, $0.context) } }
      let nominal = contexts.filter { $0.1.cpuShare == 1 && $0.1.effectiveClock == 1 }
      let nominalRow = nominal.first { $0.0.source == "measured" } ?? nominal.first
      // Without a nominal row, a modelled device's nominal latency is undone from its fastest
      // context (latency × cpu share × clock); the host falls back to the manifest's measurement.
      let fastest = contexts.max { $0.1.cpuShare * $0.1.effectiveClock < $1.1.cpuShare * $1.1.effectiveClock }
      let latency =
        nominalRow?.0.latencyMs
        ?? (device == host ? nil : fastest.map { $0.0.latencyMs * $0.1.cpuShare * $0.1.effectiveClock })
        ?? v.latencyMs
      var p = VariantProfile(
        id: v.id, accuracy: v.accuracy, latencyMs: latency, weightBytes: v.weightBytes,
        peakMemoryBytes: nominalRow?.0.memoryBytes ?? v.peakMemoryBytes,
        energyMj: nominalRow?.0.energyMj ?? v.energyMj)
      let measuredEnergies = contexts.map { ContextEnergy(context: $0.1, energyMj: $0.0.energyMj) }
      if !measuredEnergies.isEmpty { p.energyByContext = measuredEnergies }
      return p
    }
  }

  /// `profiles(from:device:)`, with the candidates `exits` adds after each variant that has an
  /// exit plan (docs/runtime.md, "Early exits"):
  ///
  /// - `.off`: none (the variants alone).
  /// - `.auto`: the variant, then one candidate per operating point.
  /// - `.fixed(name)`: only the candidate at `name` instead of the variant, where its plan has it.
  ///
  /// A candidate at operating point `p` of variant `v` has `p`'s test accuracy, the nominal
  /// latency `p.expectedLatencyMs · latency₁(v) / v.predictedLatencyMs` (the plan's per-op-table
  /// figure, calibrated by how the variant's measured latency departs from its own per-op-table
  /// prediction) and energy scaled by `p.expectedMacs / v.macs`; weights and peak memory are the
  /// variant's (exit heads are small, and rows only shrink as inputs leave).
  ///
  /// `only`: the candidates of that one variant (an error naming the bundle's variants when it
  /// has no such variant), to run one variant with and without early exits.
  public static func profiles(
    from bundle: ModelBundle, device: String? = nil, exits: ExitMode, only: String? = nil
  ) throws(AdaError) -> [VariantProfile] {
    guard let only else { return try profiles(from: bundle, device: device, exits: exits) }
    _ = try bundle.variant(only)
    return try profiles(from: bundle, device: device, exits: exits).filter { $0.id == only }
  }

  static func profiles(from bundle: ModelBundle, device: String?, exits: ExitMode) throws(AdaError)
    -> [VariantProfile]
  {
    let base = try profiles(from: bundle, device: device)
    guard exits != .off else { return base }
    try exits.check(against: bundle)
    var result: [VariantProfile] = []
    for (v, p) in zip(bundle.manifest.variants, base) {
      guard let plan = v.exits else {
        result.append(p)
        continue
      }
      let points: [Manifest.OperatingPoint]
      switch exits {
      case .off: points = []
      case .auto: points = plan.operatingPoints
      case .fixed(let name): points = plan.operatingPoint(named: name).map { [$0] } ?? []
      }
      if exits == .auto || points.isEmpty { result.append(p) }
      let calibration = v.predictedLatencyMs > 0 ? p.latencyMs / v.predictedLatencyMs : 1
      let energyScale = { (point: Manifest.OperatingPoint) in
        v.macs > 0 ? point.expectedMacs / Double(v.macs) : 1
      }
      for point in points {
        var c = p
        c.operatingPoint = point.name
        c.accuracy = point.testAccuracy
        c.latencyMs = point.expectedLatencyMs * calibration
        c.energyByContext = p.energyByContext.map {
          ContextEnergy(context: $0.context, energyMj: $0.energyMj * energyScale(point))
        }
        result.append(c)
      }
    }
    return result
  }

  enum CodingKeys: String, CodingKey {
    case id, accuracy
    case operatingPoint = "operating_point"
    case latencyMs = "latency_ms"
    case weightBytes = "weight_bytes"
    case peakMemoryBytes = "peak_memory_bytes"
    case energyByContext = "energy_by_context"
  }
}
