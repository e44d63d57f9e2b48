import AdaBundle
import AdaProfile
import AdaTensor
import Foundation

/// A context trace reproduced on this machine for real, with every policy run through it in
/// the same pass (docs/runtime.md, "Live replay"):
///
/// - **CPU share**: `Interference` hogs, planned per row by `HogPlan` for this machine's cores;
///   what the policies see is what the monitor measures, not the row's number.
/// - **Memory**: the emulated device has `deviceMemoryMB`; a balloon process allocates and
///   touches `deviceMemoryMB − row` MB, and the free memory the policy sees is the device's
///   memory less what the balloon reports holding and less what this process has grown by
///   since its variants were loaded (the host's `MemAvailable` is left out: other processes on
///   a shared host move it by more than a small device has).
/// - **Clock, battery, thermal state**: injected into the context from the row (stated in the
///   report as injected: the CPU does not really slow down).
///
/// Time runs `speed` × faster than the trace. Each slot takes the next batch of inputs (the
/// same sequence for every policy) and runs it through the adaptive policy and through each
/// fixed variant, in an order rotated every slot, so that every policy meets the same
/// conditions. A batch is late when its measured latency exceeds the SLO.
public enum LiveReplay {
  public struct Options: Sendable {
    /// Trace seconds per wall-clock second.
    public var speed = 1.0
    /// Memory the emulated device has available at the start, MB; nil: the trace's largest
    /// `mem_available_mb` (no balloon when the trace gives none).
    public var deviceMemoryMB: Double?
    /// Most hog processes (a lower CPU share than these can take is not reached, and said so).
    public var maxHogs = 8
    /// Hogs' busy/idle period, ms.
    public var hogPeriodMs = 20.0
    /// Early exits for the adaptive policy (fixed variants run static).
    public var exits: ExitMode = .off
    /// The LUT rows' device (default: the host).
    public var device: String?
    /// Warm-up calls per policy before the trace starts (they time the idle latencies).
    public var warmup = 30
    public var seed: UInt64 = 0

    public init() {}
  }

  /// One policy over the replay.
  public struct Outcome: Codable, Hashable, Sendable {
    /// `adaptive`, or a variant id.
    public var policy: String
    public var batches: Int
    public var late: Int
    public var lateRate: Double
    public var meanMs: Double
    public var p50Ms: Double
    public var p95Ms: Double
    public var p99Ms: Double
    public var maxMs: Double
    /// Measured on the labels; nil without them.
    public var accuracy: Double?
    /// The bundle's test accuracy of what ran, averaged over batches (what the simulator scores).
    public var expectedAccuracy: Double
    /// Modelled energy (the LUT's per-context figures × examples), J.
    public var energyJ: Double
    public var switches: Int
    /// Batches whose variant's memory (weights + activations at the batch) exceeded the memory
    /// free on the emulated device at that moment.
    public var memoryViolations: Int
    public var idleMs: Double
    /// Batches per variant (or variant@operating point), and how many of them were late.
    public var ran: [String: Int]
    public var lateRan: [String: Int]
    /// `adascale simulate`'s figures for the same policy and trace.
    public var simulatedLateRate: Double?
    public var simulatedAccuracy: Double?

    enum CodingKeys: String, CodingKey {
      case policy, batches, late, switches, ran, accuracy
      case lateRan = "late_ran"
      case lateRate = "late_rate", meanMs = "mean_ms", p50Ms = "p50_ms", p95Ms = "p95_ms", p99Ms = "p99_ms"
      case maxMs = "max_ms", expectedAccuracy = "expected_accuracy", energyJ = "energy_j"
      case memoryViolations = "memory_violations", idleMs = "idle_ms"
      case simulatedLateRate = "simulated_late_rate", simulatedAccuracy = "simulated_accuracy"
    }
  }

  /// What one trace row asked for and what the replay measured while it lasted.
  public struct RowRecord: Codable, Hashable, Sendable {
    public var t: Double
    public var line: Int
    public var targetShare: Double
    public var hogs: Int
    public var duty: Double
    /// Mean CPU share the monitor measured during the row (nil when no slot ran in it).
    public var measuredShare: Double?
    public var targetMemoryMB: Double?
    public var measuredMemoryMB: Double?
    public var slots: Int

    enum CodingKeys: String, CodingKey {
      case t, line, hogs, duty, slots
      case targetShare = "target_share", measuredShare = "measured_share"
      case targetMemoryMB = "target_memory_mb", measuredMemoryMB = "measured_memory_mb"
    }
  }

  public struct Report: Codable, Sendable {
    public var trace: String
    public var sloMs: Double
    public var sloPercentile: Double?
    public var batch: Int
    public var speed: Double
    public var seconds: Double
    public var slots: Int
    public var deviceMemoryMB: Double?
    /// Context fields taken from the trace rather than measured.
    public var injected: [String]
    public var adaptive: Outcome
    public var fixed: [Outcome]
    public var rows: [RowRecord]
    public var helpers: [Interference.Helper]
    /// Peak resident memory of the replay process (every policy's variants loaded), MB.
    public var peakRssMB: Double?
    public var interrupted: Bool

    enum CodingKeys: String, CodingKey {
      case trace, batch, speed, seconds, slots, injected, adaptive, fixed, rows, helpers, interrupted
      case sloMs = "slo_ms", sloPercentile = "slo_percentile", deviceMemoryMB = "device_memory_mb"
      case peakRssMB = "peak_rss_mb"
    }
  }

  /// Replays `trace` (see the type's documentation). `policy.sloMs` nil: 1.25 × the most
  /// accurate variant's median latency measured in the warm-up. `stop` is asked between slots
  /// (a signal handler's flag); `progress` gets a line per row change.
  public static func run(
    bundle: ModelBundle, trace: ContextTrace, inputs: Tensor, labels: [Int]?, policy: Policy,
    options: Options, interference: Interference, stop: () -> Bool, progress: (String) -> Void
  ) throws(AdaError) -> Report {
    let batch = policy.batch
    let n = inputs.shape[0]
    guard n >= batch else {
      throw AdaError(.badShape, path: "--input", "\(n) inputs are fewer than one batch of \(batch)")
    }
    let ids = bundle.manifest.variants.map(\.id)
    var fixedModels: [AdaptiveModel] = []
    for id in ids {
      fixedModels.append(
        try AdaptiveModel(
          bundle: bundle, policy: policy, device: options.device, monitor: nil, loading: .eager, exits: .off,
          only: id))
    }
    // Warm-up: each fixed variant on the first batch, idle; the median sets the default SLO.
    let first = inputs.slice(batch: 0..<batch)
    var idle: [Double] = []
    for m in fixedModels {
      var times: [Double] = []
      for _ in 0..<max(options.warmup, 1) { times.append(try m.predict(first).measuredLatencyMs) }
      idle.append(percentile(times, 0.5))
    }
    let accuracies = bundle.manifest.variants.map(\.accuracy)
    let best = accuracies.indices.max { (accuracies[$0], -idle[$0]) < (accuracies[$1], -idle[$1]) }!
    var policy = policy
    if policy.sloMs == nil { policy.sloMs = 1.25 * idle[best] }
    for m in fixedModels { m.policy = policy }
    let slo = policy.sloMs!

    let adaptive = try AdaptiveModel(
      bundle: bundle, policy: policy, device: options.device, monitor: ResourceMonitor(), loading: .eager,
      exits: options.exits)
    var adaptiveIdle: [Double] = []
    for _ in 0..<max(options.warmup, 1) { adaptiveIdle.append(try adaptive.predict(first).measuredLatencyMs) }
    adaptive.selector.reset()

    // The emulated device's memory window.
    let traceMemory = trace.rows.compactMap(\.context.memoryAvailableMB).max()
    let deviceMemory = options.deviceMemoryMB ?? traceMemory
    var probe = ResourceMonitor()
    let freeAtStart = probe.sample().memAvailableBytes.map { Double($0) / 1_048_576 }
    if let d = deviceMemory, let free = freeAtStart, d > free {
      throw AdaError(
        .invalidValue, path: "--device-memory-mb",
        String(
          format: "the emulated device's %.0f MB is more than the %.0f MB this machine has free", d, free))
    }
    var current = trace.rows[0]
    // Free memory on the emulated device: its memory, less what the balloon holds (touched, as
    // it reports) and what this process has grown by since every variant was loaded.
    let residentAtStart = residentMB() ?? 0
    var available: Double?
    func measureAvailable() {
      guard let d = deviceMemory, current.context.memoryAvailableMB != nil else {
        available = nil
        return
      }
      let grown = max((residentMB() ?? residentAtStart) - residentAtStart, 0)
      available = max(d - Double(interference.pollBalloon()) - grown, 0)
    }
    adaptive.adjustContext = { c in
      var c = c
      c.memoryAvailableMB = available
      c.frequencyScale = current.context.frequencyScale
      c.batteryLevel = current.context.batteryLevel
      c.thermal = current.context.thermal
      return c
    }

    let cores = ProcessInfo.processInfo.activeProcessorCount
    let steps = zip(trace.rows.dropFirst(), trace.rows).map { $0.t - $1.t }.filter { $0 > 0 }
    let end = trace.rows.last!.t + (steps.isEmpty ? 1 : percentile(steps, 0.5))
    var tallies = Array(repeating: Tally(), count: ids.count + 1)
    var rows: [RowRecord] = []
    var shareSum = 0.0
    var memorySum = 0.0
    var memoryCount = 0
    func closeRow() {
      guard var r = rows.popLast() else { return }
      if r.slots > 0 { r.measuredShare = shareSum / Double(r.slots) }
      if memoryCount > 0 { r.measuredMemoryMB = memorySum / Double(memoryCount) }
      rows.append(r)
      shareSum = 0
      memorySum = 0
      memoryCount = 0
    }
    func enter(_ row: ContextTrace.Row) {
      closeRow()
      current = row
      let plan = HogPlan.forShare(row.context.cpuShare, cores: cores, maxHogs: options.maxHogs)
      interference.apply(plan)
      if let d = deviceMemory {
        let target = row.context.memoryAvailableMB ?? d
        interference.inflate(to: Int(max(d - target, 0).rounded()))
      }
      measureAvailable()
      for m in fixedModels {
        var c = row.context
        c.memoryAvailableMB = nil
        m.fixedContext = c
      }
      rows.append(
        RowRecord(
          t: row.t, line: row.line, targetShare: row.context.cpuShare, hogs: plan.hogs, duty: plan.duty,
          targetMemoryMB: row.context.memoryAvailableMB, slots: 0))
      progress(
        String(
          format: "t=%6.1f s  cpu share %.2f → %d hog(s) at duty %.2f%@", row.t, row.context.cpuShare,
          plan.hogs, plan.duty,
          row.context.memoryAvailableMB.map { String(format: ", memory %.0f MB", $0) } ?? ""))
    }

    let batches = n / batch
    var slot = 0
    var rowIndex = 0
    var interrupted = false
    enter(trace.rows[0])
    let started = ResourceMonitor.monotonicSeconds()
    while true {
      if stop() {
        interrupted = true
        break
      }
      let t = (ResourceMonitor.monotonicSeconds() - started) * options.speed
      if t >= end { break }
      var next = rowIndex
      while next + 1 < trace.rows.count && trace.rows[next + 1].t <= t { next += 1 }
      if next != rowIndex {
        rowIndex = next
        enter(trace.rows[next])
      }
      measureAvailable()
      let b = slot % batches
      let x = inputs.slice(batch: (b * batch)..<((b + 1) * batch))
      let y = labels.map { Array($0[(b * batch)..<((b + 1) * batch)]) }
      let count = ids.count + 1
      for k in 0..<count {
        let p = (slot + k) % count
        let model = p == 0 ? adaptive : fixedModels[p - 1]
        let r = try model.predict(x)
        let chosen = model.selector.current.map { model.selector.variants[$0] }
        let need = chosen.map { Double($0.memoryBytes(batch: batch)) / 1_048_576 } ?? 0
        tallies[p].add(
          r, slo: slo, labels: y, accuracy: chosen?.accuracy ?? 0,
          energyMj: (chosen?.energyMj(in: r.context) ?? 0) * Double(batch),
          overMemory: available.map { need > $0 } ?? false)
      }
      shareSum += adaptive.lastContext.cpuShare
      if let m = adaptive.lastContext.memoryAvailableMB {
        memorySum += m
        memoryCount += 1
      }
      rows[rows.count - 1].slots += 1
      slot += 1
    }
    closeRow()
    let seconds = ResourceMonitor.monotonicSeconds() - started
    interference.apply(HogPlan(duty: 0, hogs: 0, expectedShare: 1, reachable: true))
    if deviceMemory != nil {
      interference.inflate(to: 0)
      interference.waitForBalloon(0, timeout: 5)
    }

    // The simulator on the same trace and policy (means, no tail margin: it has no spread).
    var simPolicy = policy
    simPolicy.sloPercentile = nil
    let profiles = try VariantProfile.profiles(from: bundle, device: options.device, exits: options.exits)
    let simulated = TraceSimulator.run(variants: profiles, policy: simPolicy, trace: trace)
    var adaptiveOutcome = tallies[0].outcome("adaptive", idleMs: percentile(adaptiveIdle, 0.5))
    adaptiveOutcome.simulatedLateRate = simulated.adaptive.sloViolationRate
    adaptiveOutcome.simulatedAccuracy = simulated.adaptive.meanAccuracy
    let fixed = ids.enumerated().map { i, id in
      var o = tallies[i + 1].outcome(id, idleMs: idle[i])
      if let s = simulated.fixed.first(where: { $0.variant == id }) {
        o.simulatedLateRate = s.sloViolationRate
        o.simulatedAccuracy = s.meanAccuracy
      }
      return o
    }
    return Report(
      trace: trace.file, sloMs: slo, sloPercentile: policy.sloPercentile, batch: batch, speed: options.speed,
      seconds: seconds, slots: slot, deviceMemoryMB: deviceMemory,
      injected: ["freq_scale", "battery", "thermal"], adaptive: adaptiveOutcome, fixed: fixed, rows: rows,
      helpers: interference.helpers, peakRssMB: peakResidentMB(), interrupted: interrupted)
  }

  /// Nearest-rank percentile (q in 0–1) of `values`; 0 when empty.
  public static func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
  }

  /// Resident memory of this process now (`/proc/self/statm`), MB.
  static func residentMB() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
  }

  /// `VmHWM` of /proc/self/status, MB.
  public static func peakResidentMB() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let kb = line.split(separator: " ").compactMap { Double($0) }.first
      return kb.map { $0 / 1024 }
    }
    return nil
  }

  /// Running totals of one policy.
  struct Tally {
    var latencies: [Double] = []
    var late = 0
    var correct = 0
    var labelled = 0
    var accuracy = 0.0
    var energyMj = 0.0
    var switches = 0
    var memoryViolations = 0
    var ran: [String: Int] = [:]
    var lateRan: [String: Int] = [:]

    mutating func add(
      _ r: AdaptiveResult, slo: Double, labels: [Int]?, accuracy a: Double, energyMj e: Double,
      overMemory: Bool
    ) {
      latencies.append(r.measuredLatencyMs)
      late += r.measuredLatencyMs > slo ? 1 : 0
      if let labels {
        for (p, y) in zip(r.output.argmaxRows(), labels) where p == y { correct += 1 }
        labelled += labels.count
      }
      accuracy += a
      energyMj += e
      switches += r.decision.switched ? 1 : 0
      memoryViolations += overMemory ? 1 : 0
      ran[r.decision.label, default: 0] += 1
      if r.measuredLatencyMs > slo { lateRan[r.decision.label, default: 0] += 1 }
    }

    func outcome(_ policy: String, idleMs: Double) -> Outcome {
      let n = max(latencies.count, 1)
      return Outcome(
        policy: policy, batches: latencies.count, late: late, lateRate: Double(late) / Double(n),
        meanMs: latencies.reduce(0, +) / Double(n), p50Ms: LiveReplay.percentile(latencies, 0.5),
        p95Ms: LiveReplay.percentile(latencies, 0.95), p99Ms: LiveReplay.percentile(latencies, 0.99),
        maxMs: latencies.max() ?? 0, accuracy: labelled > 0 ? Double(correct) / Double(labelled) : nil,
        expectedAccuracy: accuracy / Double(n), energyJ: energyMj / 1000, switches: switches,
        memoryViolations: memoryViolations, idleMs: idleMs, ran: ran, lateRan: lateRan)
    }
  }
}
