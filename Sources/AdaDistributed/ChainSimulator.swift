import AdaTensor
import Foundation

/// A discrete-event simulation of a chain as `mdi serve` / `mdi run` emulate it (docs/mdi.md,
/// "Simulator"): each device a FIFO single server taking `computeMs[k]` per task; a task that
/// goes on holds its device while its features serialise onto the link down
/// (`bytes · 8 / bandwidth`, frames queued on the link) and arrives one latency later; a task
/// answered at device k holds it while its result serialises onto the link up, and every
/// device above relays it (the link up queues, the relaying device does not); the source admits
/// at a fixed rate or whenever fewer than `window` tasks are in flight. Which segment answers a
/// task is drawn from the exit rates (seeded) or given.
public struct ChainSimulator: Sendable {
  public struct Config: Codable, Hashable, Sendable {
    /// Per segment: compute per task on its device, ms.
    public var computeMs: [Double]
    /// Per link k (segment k → k + 1): bytes of one feature frame, and of one result frame.
    public var featureBytes: [Int]
    public var resultBytes: Int
    public var link: Link
    /// Per segment: share of admitted tasks answered there (the last takes the rest).
    public var answerRates: [Double]

    public init(computeMs: [Double], featureBytes: [Int], resultBytes: Int, link: Link, answerRates: [Double])
    {
      self.computeMs = computeMs
      self.featureBytes = featureBytes
      self.resultBytes = resultBytes
      self.link = link
      self.answerRates = answerRates
    }
  }

  public enum Admission: Hashable, Sendable {
    /// Inputs per second, evenly spaced.
    case rate(Double)
    /// As fast as this many tasks in flight allow.
    case window(Int)
  }

  public struct Result: Codable, Hashable, Sendable {
    public var tasks: Int
    public var wallSeconds: Double
    public var throughput: Double
    /// Admission to answer, ms: p50, p90, p99, max, mean.
    public var latencyMs: [String: Double]
    /// Tasks answered at each segment.
    public var answeredPerSegment: [Int]
    /// Largest number of tasks waiting or in service at each device.
    public var maxQueue: [Int]

    enum CodingKeys: String, CodingKey {
      case tasks, wallSeconds = "wall_seconds", throughput, latencyMs = "latency_ms"
      case answeredPerSegment = "answered_per_segment", maxQueue = "max_queue"
    }
  }

  public let config: Config

  public init(config: Config) { self.config = config }

  /// The segment answering each of `n` tasks, drawn from `answerRates` with `seed`.
  public func drawAnswers(_ n: Int, seed: UInt64) -> [Int] {
    var g = SeededGenerator(seed: seed)
    let last = config.computeMs.count - 1
    return (0..<n).map { _ in
      let u = Double(g.next() >> 11) / Double(1 << 53)
      var acc = 0.0
      for (k, r) in config.answerRates.prefix(last).enumerated() {
        acc += r
        if u < acc { return k }
      }
      return last
    }
  }

  enum Event {
    case admit
    case arrive(task: Int, device: Int)
    case free(device: Int)
    case relay(task: Int, device: Int)
  }

  /// Runs `answers.count` tasks (task i answered at segment `answers[i]`).
  public func run(answers: [Int], admission: Admission) -> Result {
    let n = answers.count
    let devices = config.computeMs.count
    let msPerByte = 8e-3 / config.link.mbps  // 8 bits / (mbps · 10³ bits per ms)
    var queue = EventQueue()
    var waiting = [[Int]](repeating: [], count: devices)
    var busy = [Bool](repeating: false, count: devices)
    var downFree = [Double](repeating: 0, count: max(0, devices - 1))
    var upFree = [Double](repeating: 0, count: max(0, devices - 1))
    var admitted = [Double](repeating: 0, count: n)
    var answered = [Double](repeating: .nan, count: n)
    var perSegment = [Int](repeating: 0, count: devices)
    var maxQueue = [Int](repeating: 0, count: devices)
    var next = 0
    var inFlight = 0

    func sendUp(_ from: Int, at t: Double, task: Int) -> Double {
      // The result leaves `from` over link from − 1; returns when its last byte has left.
      let left = max(t, upFree[from - 1]) + Double(config.resultBytes) * msPerByte
      upFree[from - 1] = left
      queue.push(left + config.link.latencyMs, .relay(task: task, device: from - 1))
      return left
    }
    func start(_ k: Int, at t: Double) {
      guard !busy[k], !waiting[k].isEmpty else { return }
      let task = waiting[k].removeFirst()
      busy[k] = true
      let done = t + config.computeMs[k]
      var freeAt = done
      if answers[task] == k {
        perSegment[k] += 1
        if k == 0 {
          queue.push(done, .relay(task: task, device: -1))
        } else {
          freeAt = sendUp(k, at: done, task: task)
        }
      } else {
        let left = max(done, downFree[k]) + Double(config.featureBytes[k]) * msPerByte
        downFree[k] = left
        freeAt = left
        queue.push(left + config.link.latencyMs, .arrive(task: task, device: k + 1))
      }
      queue.push(freeAt, .free(device: k))
    }
    func enqueue(_ task: Int, _ k: Int, at t: Double) {
      waiting[k].append(task)
      maxQueue[k] = max(maxQueue[k], waiting[k].count + (busy[k] ? 1 : 0))
      start(k, at: t)
    }

    switch admission {
    case .rate(let r):
      for i in 0..<n { queue.push(Double(i) * 1e3 / r, .admit) }
    case .window(let w):
      for _ in 0..<min(w, n) { queue.push(0, .admit) }
    }
    while let (t, event) = queue.pop() {
      switch event {
      case .admit:
        guard next < n else { continue }
        admitted[next] = t
        inFlight += 1
        next += 1
        enqueue(next - 1, 0, at: t)
      case .arrive(let task, let k):
        enqueue(task, k, at: t)
      case .free(let k):
        busy[k] = false
        start(k, at: t)
      case .relay(let task, let k):
        if k <= 0 {
          answered[task] = t
          inFlight -= 1
          if case .window = admission { queue.push(t, .admit) }
        } else {
          _ = sendUp(k, at: t, task: task)
        }
      }
    }
    let latencies = (0..<n).map { answered[$0] - admitted[$0] }.sorted()
    func pct(_ p: Double) -> Double {
      latencies.isEmpty ? 0 : latencies[min(n - 1, Int((p * Double(n - 1)).rounded()))]
    }
    let wall = ((answered.max() ?? 0) - (admitted.min() ?? 0)) / 1e3
    return Result(
      tasks: n, wallSeconds: wall, throughput: wall > 0 ? Double(n) / wall : 0,
      latencyMs: [
        "p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": latencies.last ?? 0,
        "mean": latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(n),
      ], answeredPerSegment: perSegment, maxQueue: maxQueue)
  }
}

/// A binary min-heap of timed events; equal times pop in insertion order.
struct EventQueue {
  private var heap: [(time: Double, seq: Int, event: ChainSimulator.Event)] = []
  private var seq = 0

  mutating func push(_ time: Double, _ event: ChainSimulator.Event) {
    heap.append((time, seq, event))
    seq += 1
    var i = heap.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard less(i, parent) else { break }
      heap.swapAt(i, parent)
      i = parent
    }
  }

  mutating func pop() -> (Double, ChainSimulator.Event)? {
    guard !heap.isEmpty else { return nil }
    heap.swapAt(0, heap.count - 1)
    let top = heap.removeLast()
    var i = 0
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var m = i
      if l < heap.count && less(l, m) { m = l }
      if r < heap.count && less(r, m) { m = r }
      if m == i { break }
      heap.swapAt(i, m)
      i = m
    }
    return (top.time, top.event)
  }

  private func less(_ a: Int, _ b: Int) -> Bool {
    (heap[a].time, heap[a].seq) < (heap[b].time, heap[b].seq)
  }
}
