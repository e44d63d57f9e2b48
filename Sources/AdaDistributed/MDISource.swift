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
  /// The plan the task was admitted under: 0 the run's first, then one more per re-plan.
  public var epoch = 0
}

/// The source of the chain (`adascale mdi run`): admits inputs one task each (at a rate, or as
/// fast as the window of tasks in flight allows), runs the first segment, answers tasks that
/// exit there, forwards the rest to the first worker, and collects the answers coming back.
/// Every admitted task ends answered or failed exactly once: a failure frame, the first
/// worker's connection closing, or the run's timeout fails what is still in flight.
///
/// With `Config.replanning`, a worker that is gone (its upstream neighbour's `down` frame, or
/// the first worker's connection closing) makes the source pause admission, let the tasks in
/// flight end, plan the variant over the devices that remain, send the new plan down the chain
/// and admit again once the last worker has applied it (`replans`).
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
    /// Re-plan over the remaining workers when one is gone; nil: its tasks fail, the run goes on.
    public var replanning: ChainReplanning?

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

  /// Segment 0 of the current plan.
  public var step: SegmentStep { lock.withLock { currentStep } }
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
  var pacer: Pacer?
  var currentStep: SegmentStep
  /// For each graph output, the segment of the current plan that holds it.
  var outputSegments: [Int: Int]

  // Re-planning (`Config.replanning`); guarded by `lock` unless said otherwise.
  var epoch = 0
  /// Indices into `replanning.workers` of the chain's workers, in order.
  var alive: [Int] = []
  var cutAfter: [String] = []
  var replanningNow = false
  var runEnded = false
  /// Bumped per connection to the first worker: a close of an older one is not news.
  var connection = 0
  var replanEvents: [ReplanEvent] = []
  var chains: [SegmentChain] = []
  var ackResult: (applied: Bool, message: String)?
  let ack = DispatchSemaphore(value: 0)
  /// Admission waits while `paused` (guarded by `gate`).
  let gate = NSCondition()
  var paused = false
  let control = DispatchQueue(label: "adascale.mdi.source.replan")

  public init(step: SegmentStep, config: Config, outputSegments: [Int: Int]) {
    currentStep = step
    self.config = config
    self.outputSegments = outputSegments
    slots = DispatchSemaphore(value: max(1, config.window))
    pacer = config.pacingMs.map(Pacer.init)
    if let r = config.replanning {
      alive = Array(r.workers.indices)
      cutAfter = r.initialCutAfter
    }
  }

  /// The re-plans of the last run, in order.
  public var replans: [ReplanEvent] { lock.withLock { replanEvents } }
  /// The chains of the plans made during the last run (epoch 1, 2, …).
  public var replannedChains: [SegmentChain] { lock.withLock { chains } }

  /// Bytes the source sent to and received from the first worker.
  public var linkBytes: (sent: Int, received: Int) { lock.withLock { (link?.bytesSent ?? 0, receivedBytes) } }

  func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }

  /// Runs every example of `inputs` (`[N] + input shape`) as one task; returns one record per
  /// example, in order.
  public func run(inputs: Tensor) throws(AdaError) -> [TaskRecord] {
    let n = inputs.shape[0]
    if let next = config.next { try connect(to: next) }
    defer {
      lock.withLock { runEnded = true }
      control.sync {}  // a re-plan in progress ends first
      try? lock.withLock { channel }?.close().wait()
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
      // Admitting and pausing exclude each other: a task is either in flight when a re-plan
      // starts (and drained before the chain changes) or admitted under the new plan.
      gate.lock()
      while paused { gate.wait() }
      let point: Int = lock.withLock {
        let p = config.pointStep.map { min(config.points - 1, inFlight / max(1, $0)) } ?? 0
        inFlight += 1
        var r = TaskRecord(admittedAt: now())
        r.point = p
        r.epoch = epoch
        records.append(r)
        return p
      }
      gate.unlock()
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

  /// Connects to the first worker; a close of this connection is news while it is the current
  /// one (a re-plan or the end of the run closes it on purpose).
  func connect(to endpoint: Endpoint) throws(AdaError) {
    let generation = lock.withLock {
      connection += 1
      return connection
    }
    let channel = try Connector.connect(to: endpoint, group: group, timeout: config.connectTimeout) {
      FrameReader(
        onFrame: { [weak self] frame, bytes in self?.received(frame, bytes: bytes) },
        onError: { [weak self] in self?.failAll("\($0)") },
        onClose: { [weak self] in self?.firstWorkerClosed(generation) })
    }
    lock.withLock {
      self.channel = channel
      link = ShapedLink(channel: channel, link: config.link)
    }
  }

  func firstWorkerClosed(_ generation: Int) {
    let news = lock.withLock { generation == connection && !runEnded }
    guard news else { return }
    failAll("the first worker closed its connection")
    if config.replanning != nil { gone(segment: 1, reason: "the first worker closed its connection") }
  }

  func process(task i: Int, _ x: Tensor, admitted: UInt64, point: Int) {
    let (step, link, pacer) = lock.withLock { (currentStep, self.link, self.pacer) }
    let outcome: SegmentOutcome
    do {
      outcome = try step.process(input: x, received: [], point: point)
    } catch {
      settle(UInt64(i), answer: nil, failure: "segment 0: \(error)")
      return
    }
    let ready = pacer?.finish(arrivedAt: admitted)
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
        blocking: true, readyAt: ready)
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
    case .planned:
      lock.withLock { ackResult = (frame.tag == 1, frame.message) }
      ack.signal()
    case .down:
      gone(segment: Int(frame.tag), reason: frame.message)
    case .plan:
      break  // a source takes no plans
    }
  }

  func segmentHolding(output o: Int) -> Int { lock.withLock { outputSegments[o] ?? -1 } }

  // MARK: Re-planning

  func setPaused(_ value: Bool) {
    gate.lock()
    paused = value
    gate.broadcast()
    gate.unlock()
  }

  /// The worker of `segment` (of the current plan) is gone: re-plan, once at a time.
  func gone(segment: Int, reason: String) {
    guard let replanning = config.replanning else { return }
    let start: Bool = lock.withLock {
      guard !replanningNow, !runEnded else { return false }
      replanningNow = true
      return true
    }
    guard start else { return }
    setPaused(true)
    let noticed = now()
    control.async { [self] in
      replan(replanning, goneSegment: segment, reason: reason, noticed: noticed)
      lock.withLock { replanningNow = false }
      setPaused(false)
    }
  }

  func replan(_ r: ChainReplanning, goneSegment k: Int, reason: String, noticed: Double) {
    // Let the tasks in flight end: answered, or failed by the loss (their frames are on the way).
    let deadline = Date().addingTimeInterval(r.drainTimeout)
    while lock.withLock({ inFlight }) > 0 && Date() < deadline { usleep(2000) }
    failAll("lost while re-planning after the worker of segment \(k) was gone")
    let (before, oldAlive, nextEpoch) = lock.withLock { (cutAfter, alive, epoch + 1) }
    let position = k - 1
    var remaining = oldAlive
    let goneIndex = oldAlive.indices.contains(position) ? oldAlive[position] : nil
    if goneIndex != nil { remaining.remove(at: position) }
    // Worker i's device (devices[0] is the source's).
    func device(_ i: Int) -> String {
      r.devices.indices.contains(i + 1) ? r.devices[i + 1] : "worker \(i + 1)"
    }
    var event = ReplanEvent(
      epoch: nextEpoch, atSeconds: noticed, goneSegment: k,
      goneWorker: goneIndex.map { r.workers[$0].description } ?? "?",
      goneDevice: goneIndex.map(device) ?? "?",
      reason: reason, cutAfterBefore: before, cutAfter: before,
      devices: [r.devices.first ?? "source"] + remaining.map(device), seconds: 0)
    do throws(AdaError) {
      let cuts = try r.plan(remaining)
      let deployment = try r.deploy(cuts)
      let newStep = try deployment.step(0)
      let pacing = try r.sourcePacing(deployment)
      event.cutAfter = cuts
      if remaining.isEmpty {
        let old = lock.withLock {
          connection += 1
          defer { (channel, link) = (nil, nil) }
          return channel
        }
        try? old?.close().wait()
      } else {
        if position == 0 || lock.withLock({ channel?.isActive != true }) {
          try connect(to: r.workers[remaining[0]])
        }
        let message = ChainPlanMessage(
          epoch: nextEpoch, cutAfter: cuts, workers: remaining.map { r.workers[$0].description })
        lock.withLock { ackResult = nil }
        while ack.wait(timeout: .now()) == .success {}  // a stale answer
        guard let link = lock.withLock({ link }) else {
          throw AdaError(.internalError, path: "mdi run", "no connection to the first worker")
        }
        link.send(.control(.plan, tag: 1, message.encoded()))
        guard ack.wait(timeout: .now() + r.ackTimeout) == .success, let answer = lock.withLock({ ackResult })
        else {
          throw AdaError(
            .invalidValue, path: "mdi run", "the chain did not apply the new plan within \(r.ackTimeout) s")
        }
        guard answer.applied else {
          throw AdaError(.invalidValue, path: "mdi run", "the chain refused the new plan: \(answer.message)")
        }
      }
      event.seconds = now() - noticed
      lock.withLock {
        currentStep = newStep
        outputSegments = deployment.chain.outputSegments
        self.pacer = pacing.map(Pacer.init)
        alive = remaining
        cutAfter = cuts
        epoch = nextEpoch
        chains.append(deployment.chain)
        replanEvents.append(event)
      }
    } catch {
      event.error = "\(error)"
      event.seconds = now() - noticed
      lock.withLock { replanEvents.append(event) }
    }
  }

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
