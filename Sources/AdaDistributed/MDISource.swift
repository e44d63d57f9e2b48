import AdaTensor
import Foundation
import NIOCore
import NIOPosix

/// What happened to one admitted task.
public struct TaskRecord: Sendable {
  /// Seconds since the run started.
  public var admittedAt: Double
  public var answeredAt: Double?
  public var answer: TaskAnswer?
  /// Why the task failed (a failure frame, a closed connection, or the timeout).
  public var failure: String?
  /// The operating point (threshold set) the task ran with.
  public var point = 0
  /// Not admitted: it arrived while the window was full (`Config.dropWhenFull`).
  public var rejected = false
}

/// The source of the chain (`adascale mdi run`): admits inputs one task each (at a rate, or as
/// fast as the window of tasks in flight allows), runs the first segment, answers tasks that
/// exit there, forwards the rest to the first worker, and collects the answers coming back.
/// Every admitted task ends answered or failed exactly once: a failure frame, the first
/// worker's connection closing, or the run's timeout fails what is still in flight.
public final class MDISource: @unchecked Sendable {
  public struct Config: Sendable {
    public var next: Endpoint?
    public var link: Link?
    public var pacingMs: Double?
    public var encoding: FeatureEncoding = .float32
    /// Inputs per second; nil: as fast as the window allows.
    public var rate: Double?
    /// Most tasks in flight at once (admitted, not answered).
    public var window = 8
    /// Seconds to wait for the last answers after the last admission.
    public var timeout = 30.0
    public var connectTimeout = 10.0
    /// Rate adaptation by admission control: with `rate`, an input arriving while `window` tasks
    /// are in flight is not admitted (recorded as rejected) instead of waiting.
    public var dropWhenFull = false
    /// Threshold adaptation: each task runs with operating point `min(points − 1, in flight /
    /// pointStep)`, so longer queues make inputs leave earlier; nil: always point 0.
    public var pointStep: Int?
    /// Operating points the chain holds (`ExitRules.points.count`).
    public var points = 1
    /// Fail a task not answered this many seconds after its admission (a hung worker is noticed
    /// this way; a closed one at once); nil: only the run's `timeout` applies.
    public var taskTimeout: Double?

    public init(
      next: Endpoint? = nil, link: Link? = nil, pacingMs: Double? = nil, encoding: FeatureEncoding = .float32,
      rate: Double? = nil, window: Int = 8, timeout: Double = 30
    ) {
      self.next = next
      self.link = link
      self.pacingMs = pacingMs
      self.encoding = encoding
      self.rate = rate
      self.window = window
      self.timeout = timeout
    }
  }

  public let step: SegmentStep
  public let config: Config
  let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  let compute = DispatchQueue(label: "adascale.mdi.source.compute")
  let lock = NSLock()
  var records: [TaskRecord] = []
  var open = 0
  var slots: DispatchSemaphore
  let finished = DispatchSemaphore(value: 0)
  var started = DispatchTime.now().uptimeNanoseconds
  var link: ShapedLink?
  var channel: Channel?
  var receivedBytes = 0
  var inFlight = 0
  let pacer: Pacer?

  /// For each graph output, the segment that holds it (for the exit histogram).
  public let outputSegments: [Int: Int]

  public init(step: SegmentStep, config: Config, outputSegments: [Int: Int]) {
    self.step = step
    self.config = config
    self.outputSegments = outputSegments
    slots = DispatchSemaphore(value: max(1, config.window))
    pacer = config.pacingMs.map(Pacer.init)
  }

  /// Bytes the source sent to and received from the first worker.
  public var linkBytes: (sent: Int, received: Int) { lock.withLock { (link?.bytesSent ?? 0, receivedBytes) } }

  func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }

  /// Runs every example of `inputs` (`[N] + input shape`) as one task; returns one record per
  /// example, in order.
  public func run(inputs: Tensor) throws(AdaError) -> [TaskRecord] {
    let n = inputs.shape[0]
    if let next = config.next {
      let channel = try Connector.connect(to: next, group: group, timeout: config.connectTimeout) {
        FrameReader(
          onFrame: { [weak self] frame, bytes in self?.received(frame, bytes: bytes) },
          onError: { [weak self] in self?.failAll("\($0)") },
          onClose: { [weak self] in self?.failAll("the first worker closed its connection") })
      }
      self.channel = channel
      link = ShapedLink(channel: channel, link: config.link)
    }
    defer {
      try? channel?.close().wait()
      try? group.syncShutdownGracefully()
    }
    lock.withLock {
      records = []
      inFlight = 0
      open = n
      started = DispatchTime.now().uptimeNanoseconds
    }
    if n == 0 { return [] }
    let sweeper = config.taskTimeout.map { limit in
      let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "adascale.mdi.source.sweep"))
      let period = max(0.01, min(0.1, limit / 4))
      timer.schedule(deadline: .now() + period, repeating: period)
      timer.setEventHandler { [weak self] in self?.expire(olderThan: limit) }
      timer.resume()
      return timer
    }
    defer { sweeper?.cancel() }
    for i in 0..<n {
      if let rate = config.rate {
        let due = Double(i) / rate
        let wait = due - now()
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
      }
      if config.dropWhenFull && config.rate != nil {
        if slots.wait(timeout: .now()) == .timedOut {
          reject(i)
          continue
        }
      } else if slots.wait(timeout: .now() + config.timeout) == .timedOut {
        failAll("no answer within \(config.timeout) s while \(config.window) tasks were in flight")
        slots.wait()
      }
      let x = inputs.slice(batch: i..<(i + 1))
      let point: Int = lock.withLock {
        let p = config.pointStep.map { min(config.points - 1, inFlight / max(1, $0)) } ?? 0
        inFlight += 1
        var r = TaskRecord(admittedAt: now())
        r.point = p
        records.append(r)
        return p
      }
      let admitted = DispatchTime.now().uptimeNanoseconds
      compute.async { [self] in process(task: i, x, admitted: admitted, point: point) }
    }
    if finished.wait(timeout: .now() + config.timeout) == .timedOut {
      failAll("no answer within \(config.timeout) s of the last admission")
    }
    return lock.withLock { records }
  }

  /// Records input `i` as not admitted.
  func reject(_ i: Int) {
    let done: Bool = lock.withLock {
      var r = TaskRecord(admittedAt: now())
      r.rejected = true
      records.append(r)
      open -= 1
      return open == 0
    }
    if done { finished.signal() }
  }

  func process(task i: Int, _ x: Tensor, admitted: UInt64, point: Int) {
    let outcome: SegmentOutcome
    do {
      outcome = try step.process(input: x, received: [], point: point)
    } catch {
      settle(UInt64(i), answer: nil, failure: "segment 0: \(error)")
      return
    }
    pacer?.finish(arrivedAt: admitted)
    switch outcome {
    case .answered(let o, let output):
      settle(UInt64(i), answer: TaskAnswer(outputIndex: o, segment: 0, output: output), failure: nil)
    case .forward(let tensors):
      guard let link, link.channel.isActive else {
        settle(
          UInt64(i), answer: nil,
          failure: link == nil
            ? "the chain has more segments but no --next worker" : "the first worker is gone")
        return
      }
      let leftAt = link.send(
        Frame(
          kind: .features, taskId: UInt64(i), tag: 1, point: UInt16(point), encoding: config.encoding,
          tensors: tensors),
        blocking: true)
      pacer?.sent(until: leftAt)
    }
  }

  func received(_ frame: Frame, bytes: Int) {
    lock.withLock { receivedBytes += bytes }
    switch frame.kind {
    case .result:
      guard let output = frame.tensors.first else {
        settle(frame.taskId, answer: nil, failure: "a result frame without a tensor")
        return
      }
      let o = Int(frame.tag)
      let segment = segmentHolding(output: o)
      settle(frame.taskId, answer: TaskAnswer(outputIndex: o, segment: segment, output: output), failure: nil)
    case .failure:
      settle(frame.taskId, answer: nil, failure: frame.message)
    case .features:
      settle(frame.taskId, answer: nil, failure: "the first worker sent features back")
    }
  }

  func segmentHolding(output o: Int) -> Int { outputSegments[o] ?? -1 }

  /// Records the end of task `id` once; later news of the same task is ignored.
  func settle(_ id: UInt64, answer: TaskAnswer?, failure: String?) {
    // (settled now, the last one to settle)
    let (settled, last): (Bool, Bool) = lock.withLock {
      guard id < UInt64(records.count), records[Int(id)].answeredAt == nil, records[Int(id)].failure == nil,
        !records[Int(id)].rejected
      else { return (false, false) }
      let i = Int(id)
      inFlight -= 1
      if let answer {
        records[i].answer = answer
        records[i].answeredAt = now()
      } else {
        records[i].failure = failure
      }
      open -= 1
      return (true, open == 0)
    }
    guard settled else { return }
    slots.signal()
    if last { finished.signal() }
  }

  /// Fails the tasks in flight admitted more than `limit` seconds ago.
  func expire(olderThan limit: Double) {
    let ids: [Int] = lock.withLock {
      let t = now()
      return records.indices.filter {
        records[$0].answeredAt == nil && records[$0].failure == nil && !records[$0].rejected
          && t - records[$0].admittedAt > limit
      }
    }
    for id in ids { settle(UInt64(id), answer: nil, failure: "no answer within \(limit) s of admission") }
  }

  /// Fails every admitted task still in flight (and, through `open`, ends the run).
  func failAll(_ reason: String) {
    let ids: [Int] = lock.withLock {
      records.indices.filter {
        records[$0].answeredAt == nil && records[$0].failure == nil && !records[$0].rejected
      }
    }
    for id in ids { settle(UInt64(id), answer: nil, failure: reason) }
    // Tasks not admitted yet will fail as they are forwarded (no connection): unblock admission.
  }
}
