import AdaNN
import AdaTensor
import Foundation

/// What `adascale mdi run` measured (docs/mdi.md, "What is measured").
public struct MDIRunReport: Codable, Sendable {
  public struct ExitCount: Codable, Hashable, Sendable {
    /// The plan (0: the run's first; one more per re-plan) the row's tasks were admitted under.
    public var epoch = 0
    public var segment: Int
    public var device: String
    public var output: String
    public var count: Int
    public var share: Double
  }

  public struct PointCount: Codable, Hashable, Sendable {
    public var point: Int
    public var admitted: Int
    public var accuracy: Double?
  }

  public struct LinkBytes: Codable, Hashable, Sendable {
    /// The plan the row's tasks were admitted under (`ExitCount.epoch`).
    public var epoch = 0
    /// Between segment `link` and segment `link + 1`.
    public var link: Int
    /// Feature frames sent downstream over it, and their bytes.
    public var featureFrames: Int
    public var featureBytes: Int
    /// Result and failure frames sent back upstream over it, and their bytes.
    public var resultFrames: Int
    public var resultBytes: Int
  }

  public var tasks: Int
  public var answered: Int
  public var failed: Int
  /// Inputs not admitted because the window was full (`--drop-when-full`).
  public var rejected: Int
  /// Admitted tasks per operating point index (threshold adaptation), and the answered share
  /// of each that was right (nil without labels).
  public var perPoint: [PointCount]
  /// First failure reasons (at most 5), for the human output.
  public var failures: [String]
  /// Seconds from the first admission to the last answer.
  public var wallSeconds: Double
  /// Answered tasks per second over `wallSeconds`.
  public var throughput: Double
  /// Admission to answer, ms, over answered tasks.
  public var latencyMs: [String: Double]
  /// Share of answered tasks whose top class is the label (nil without labels).
  public var accuracy: Double?
  public var exits: [ExitCount]
  /// Frames and bytes crossing each link, counted from where each task was answered.
  public var links: [LinkBytes]
  /// Bytes the source itself sent and received on link 0 (a check of `links[0]`).
  public var sourceBytesSent: Int
  public var sourceBytesReceived: Int
  /// The re-plans after lost workers, in order (`MDISource.Config.replanning`).
  public var replans: [ReplanEvent]

  enum CodingKeys: String, CodingKey {
    case replans
    case tasks, answered, failed, rejected, perPoint = "per_point", failures, wallSeconds = "wall_seconds",
      throughput, latencyMs = "latency_ms"
    case accuracy, exits, links, sourceBytesSent = "source_bytes_sent", sourceBytesReceived =
      "source_bytes_received"
  }

  /// `chain` and `devices` are the run's first plan; `replannedChains[e - 1]` is the chain of
  /// epoch e, made by the successful `replans` (whose `devices` name its devices).
  public init(
    records: [TaskRecord], chain: SegmentChain, devices: [String], encoding: FeatureEncoding, labels: [Int]?,
    sourceBytes: (sent: Int, received: Int), replannedChains: [SegmentChain] = [], replans: [ReplanEvent] = []
  ) throws(AdaError) {
    self.replans = replans
    tasks = records.count
    let done = records.compactMap { r in r.answer.map { (r, $0) } }
    answered = done.count
    rejected = records.filter(\.rejected).count
    failed = records.count - answered - rejected
    failures = Array(records.compactMap(\.failure).prefix(5))
    let admitted = records.filter { !$0.rejected }
    let first = admitted.map(\.admittedAt).min() ?? 0
    let last = records.compactMap(\.answeredAt).max() ?? first
    wallSeconds = last - first
    throughput = wallSeconds > 0 ? Double(answered) / wallSeconds : 0
    let latencies = done.map { ($0.0.answeredAt! - $0.0.admittedAt) * 1e3 }.sorted()
    func percentile(_ p: Double) -> Double {
      guard !latencies.isEmpty else { return 0 }
      return latencies[min(latencies.count - 1, Int((p * Double(latencies.count - 1)).rounded()))]
    }
    latencyMs = [
      "p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99), "max": latencies.last ?? 0,
      "mean": latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count),
    ]
    func right(_ i: Int) -> Bool {
      guard let labels, let a = records[i].answer else { return false }
      let s = a.output.scalars
      return s.indices.max(by: { s[$0] < s[$1] }) == labels[i]
    }
    if let labels, labels.count != records.count {
      throw AdaError(
        .badShape, path: "--labels", "expected one label per input (\(records.count)), found \(labels.count)")
    }
    perPoint = Dictionary(grouping: records.indices.filter { !records[$0].rejected }) { records[$0].point }
      .sorted { $0.key < $1.key }
      .map { point, tasks in
        let answeredHere = tasks.filter { records[$0].answer != nil }
        return PointCount(
          point: point, admitted: tasks.count,
          accuracy: labels == nil || answeredHere.isEmpty
            ? nil : Double(answeredHere.filter(right).count) / Double(answeredHere.count))
      }
    if let labels {
      guard labels.count == records.count else {
        throw AdaError(
          .badShape, path: "--labels",
          "expected one label per input (\(records.count)), found \(labels.count)")
      }
      var right = 0
      for (i, r) in records.enumerated() {
        guard let a = r.answer else { continue }
        let s = a.output.scalars
        if s.indices.max(by: { s[$0] < s[$1] }) == labels[i] { right += 1 }
      }
      accuracy = answered > 0 ? Double(right) / Double(answered) : 0
    } else {
      accuracy = nil
    }
    let planned = replans.filter { $0.error == nil }.sorted { $0.epoch < $1.epoch }
    let epochs = [(chain, devices)] + zip(replannedChains, planned).map { ($0, $1.devices) }
    var exits: [ExitCount] = []
    var links: [LinkBytes] = []
    for (e, (chain, devices)) in epochs.enumerated() {
      let mine = records.filter { $0.epoch == e }
      if e > 0 && mine.isEmpty { continue }
      var counts: [Int: Int] = [:]
      for r in mine { if let a = r.answer { counts[a.outputIndex, default: 0] += 1 } }
      for (k, segment) in chain.segments.enumerated() {
        for (o, name) in zip(segment.outputIndices, segment.outputs) {
          let c = counts[o] ?? 0
          exits.append(
            ExitCount(
              epoch: e, segment: k, device: k < devices.count ? devices[k] : "segment \(k)", output: name,
              count: c, share: answered > 0 ? Double(c) / Double(answered) : 0))
        }
      }
      // Frame sizes are fixed by the shapes: a task answered at segment s crossed links 0..<s both ways.
      let shapes = try chain.graph.inferShapes()
      for k in 0..<(chain.segments.count - 1) {
        let sends = chain.segments[k].sends.map { shapes[$0]! }
        let featureBytes = Self.frameBytes(shapes: sends, encoding: encoding)
        var l = LinkBytes(
          epoch: e, link: k, featureFrames: 0, featureBytes: 0, resultFrames: 0, resultBytes: 0)
        for r in mine where (r.answer?.segment ?? -1) > k {
          let a = r.answer!
          l.featureFrames += 1
          l.featureBytes += featureBytes
          l.resultFrames += 1
          l.resultBytes += Self.frameBytes(shapes: [Array(a.output.shape.dropFirst())], encoding: .float32)
        }
        links.append(l)
      }
    }
    self.exits = exits
    self.links = links
    sourceBytesSent = sourceBytes.sent
    sourceBytesReceived = sourceBytes.received
  }

  /// Bytes of a frame holding one example of tensors with these per-example shapes.
  public static func frameBytes(shapes: [[Int]], encoding: FeatureEncoding) -> Int {
    Frame.headerBytes + 4
      + shapes.reduce(0) { $0 + 1 + 4 * ($1.count + 1) }
      + encoding.bytes(elementCounts: shapes.map(\.elementCount))
  }
}
