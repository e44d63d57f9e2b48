import AdaBundle
import AdaProfile
import AdaTensor

/// What the selector knows about one variant, taken from the bundle's manifest and lookup table
/// for one device. Latency and energy are batch-1 figures; `latency(in:batch:)` and
/// `memoryBytes(batch:)` apply a context and a batch size.
public struct VariantProfile: Codable, Hashable, Sendable {
  public var id: String
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

  enum CodingKeys: String, CodingKey {
    case id, accuracy
    case latencyMs = "latency_ms"
    case weightBytes = "weight_bytes"
    case peakMemoryBytes = "peak_memory_bytes"
    case energyByContext = "energy_by_context"
  }
}
