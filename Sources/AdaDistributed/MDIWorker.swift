import AdaProfile
import AdaTensor
import Foundation
import NIOCore
import NIOPosix

/// A worker of the chain (`adascale mdi serve`): holds one segment and its weights, listens for
/// feature frames from upstream, runs the segment on each task one at a time (a device), answers
/// tasks that exit here (or reach the final output) back upstream, forwards the rest to the
/// next worker, and relays the answers coming back from downstream to whoever sent the task.
///
/// With `pacingMs`, each task's compute is stretched to that many ms when the host is faster (the
/// emulated device's modelled segment time); outgoing frames in both directions go through a
/// `ShapedLink` with `link`. If the next worker's connection closes, every task forwarded there
/// and not yet answered is answered with a failure frame, and a `down` frame tells the source.
///
/// With `Config.deploy`, a `plan` frame (the source re-planning after a loss, docs/mdi.md)
/// makes the worker take the segment the frame names under the new cuts, connect to the next
/// worker of the plan, and pass the plan on; the last worker answers `planned` up the chain.
public final class MDIWorker: @unchecked Sendable {
  public struct Config: Sendable {
    public var host = "127.0.0.1"
    /// 0: any free port (read `port` after `start`).
    public var port = 0
    public var next: Endpoint?
    public var link: Link?
    public var pacingMs: Double?
    public var encoding: FeatureEncoding = .float32
    public var connectTimeout = 10.0
    /// Loads the variant cut after the given nodes (re-planning); nil: plan frames are refused.
    public var deploy: (@Sendable (_ cutAfter: [String]) throws(AdaError) -> MDIDeployment)?
    /// The device compute is paced to, so that a re-planned segment is paced to it too.
    public var device: DeviceProfile?
    /// Told of each plan applied or refused (one line).
    public var log: (@Sendable (String) -> Void)?

    public init(
      host: String = "127.0.0.1", port: Int = 0, next: Endpoint? = nil, link: Link? = nil,
      pacingMs: Double? = nil,
      encoding: FeatureEncoding = .float32
    ) {
      self.host = host
      self.port = port
      self.next = next
      self.link = link
      self.pacingMs = pacingMs
      self.encoding = encoding
    }
  }

  /// The segment this worker holds now.
  public var step: SegmentStep { lock.withLock { currentStep } }
  public let config: Config
  var currentStep: SegmentStep
  var nextEndpoint: Endpoint?
  /// Bumped per downstream connection: a close of an older one is not news.
  var connection = 0
  /// Where control frames from downstream (`planned`, `down`) go: the last upstream heard from.
  var upstream: ShapedLink?
  /// A lost next worker's segment not yet told upstream (no upstream had been heard from).
  var unreportedLoss: Int?
  let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  let compute = DispatchQueue(label: "adascale.mdi.worker.compute")
  let lock = NSLock()
  var downstream: ShapedLink?
  var downstreamChannel: Channel?
  var server: Channel?
  /// Task id → the upstream link its answer goes back on.
  var routes: [UInt64: ShapedLink] = [:]
  /// Tasks forwarded downstream and not answered yet.
  var pending: Set<UInt64> = []
  var stopped = false
  var tasksSeen = 0
  var computeSeconds = 0.0
  public private(set) var port = 0

  var pacer: Pacer?

  public init(step: SegmentStep, config: Config) {
    currentStep = step
    self.config = config
    nextEndpoint = config.next
    pacer = config.pacingMs.map(Pacer.init)
  }

  /// Tasks processed and the host compute time they took, seconds (pacing not included).
  public var stats: (tasks: Int, computeSeconds: Double) { lock.withLock { (tasksSeen, computeSeconds) } }

  /// Connects to the next worker (if any), then listens. Returns the bound port.
  @discardableResult
  public func start() throws(AdaError) -> Int {
    if let next = config.next { try connectDownstream(next) }
    let link = config.link
    do {
      let server = try ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 8)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
          let up = ShapedLink(channel: channel, link: link)
          return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
              FrameReader(
                onFrame: { frame, _ in self.fromUpstream(frame, reply: up) },
                onError: { error in up.send(.failure(taskId: UInt64.max, "rejected a frame: \(error)")) },
                onClose: {}))
          }
        }
        .bind(host: config.host, port: config.port).wait()
      self.server = server
      port = server.localAddress?.port ?? config.port
      return port
    } catch {
      throw AdaError(
        .invalidValue, path: "--port", "cannot listen on \(config.host):\(config.port): \(error)")
    }
  }

  func connectDownstream(_ next: Endpoint) throws(AdaError) {
    let generation = lock.withLock {
      connection += 1
      return connection
    }
    let channel = try Connector.connect(to: next, group: group, timeout: config.connectTimeout) {
      FrameReader(
        onFrame: { [weak self] frame, _ in self?.fromDownstream(frame) }, onError: { _ in },
        onClose: { [weak self] in self?.downstreamClosed(generation) })
    }
    lock.withLock {
      downstreamChannel = channel
      downstream = ShapedLink(channel: channel, link: config.link)
      nextEndpoint = next
    }
  }

  /// Closes the connections and stops the event loop.
  public func stop() {
    let first: Bool = lock.withLock {
      defer { stopped = true }
      return !stopped
    }
    guard first else { return }
    try? server?.close().wait()
    try? lock.withLock { downstreamChannel }?.close().wait()
    compute.sync {}  // let a task in progress finish before its loop goes away
    try? group.syncShutdownGracefully()
  }

  /// Blocks until the listening socket closes.
  public func wait() {
    try? server?.closeFuture.wait()
  }

  func fromUpstream(_ frame: Frame, reply: ShapedLink) {
    let loss: Int? = lock.withLock {
      upstream = reply
      defer { unreportedLoss = nil }
      return unreportedLoss
    }
    if let loss { reply.send(Self.down(loss)) }
    if frame.kind == .plan {
      compute.async { [self] in applyPlan(frame, reply: reply) }
      return
    }
    guard frame.kind == .features else {
      reply.send(.failure(taskId: frame.taskId, "segment \(step.segment.index) accepts feature frames only"))
      return
    }
    let arrived = DispatchTime.now().uptimeNanoseconds
    compute.async { [self] in
      // Read on the compute queue, which also applies plans: a task sees one segment throughout.
      let (step, downstream, pacer) = lock.withLock { (currentStep, self.downstream, self.pacer) }
      guard Int(frame.tag) == step.segment.index else {
        reply.send(
          .failure(
            taskId: frame.taskId,
            "features for segment \(frame.tag) reached the worker of segment \(step.segment.index)"))
        return
      }
      let started = DispatchTime.now().uptimeNanoseconds
      let outcome: SegmentOutcome
      do {
        outcome = try step.process(input: nil, received: frame.tensors, point: Int(frame.point))
      } catch {
        reply.send(.failure(taskId: frame.taskId, "segment \(step.segment.index): \(error)"))
        return
      }
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
      lock.withLock {
        tasksSeen += 1
        computeSeconds += elapsed
      }
      let ready = pacer?.finish(arrivedAt: arrived)
      let leftAt: UInt64
      switch outcome {
      case .answered(let o, let output):
        leftAt = reply.send(
          Frame(kind: .result, taskId: frame.taskId, tag: UInt16(o), tensors: [output]), blocking: true,
          readyAt: ready)
      case .forward(let tensors):
        guard let downstream, downstream.channel.isActive else {
          reply.send(
            .failure(
              taskId: frame.taskId,
              downstream == nil
                ? "segment \(step.segment.index) has no next worker"
                : "the worker of segment \(step.segment.index + 1) is gone"))
          return
        }
        lock.withLock {
          routes[frame.taskId] = reply
          pending.insert(frame.taskId)
        }
        leftAt = downstream.send(
          Frame(
            kind: .features, taskId: frame.taskId, tag: UInt16(step.segment.index + 1), point: frame.point,
            encoding: config.encoding, tensors: tensors),
          blocking: true, readyAt: ready)
      }
      pacer?.sent(until: leftAt)
    }
  }

  func fromDownstream(_ frame: Frame) {
    if frame.kind == .planned || frame.kind == .down {
      lock.withLock { upstream }?.send(frame)  // control news goes up to the source
      return
    }
    let route: ShapedLink? = lock.withLock {
      pending.remove(frame.taskId)
      return routes.removeValue(forKey: frame.taskId)
    }
    route?.send(frame)
  }

  func downstreamClosed(_ generation: Int) {
    let (news, lost, up, index): (Bool, [(UInt64, ShapedLink)], ShapedLink?, Int) = lock.withLock {
      guard generation == connection, !stopped else { return (false, [], nil, 0) }
      let l = pending.compactMap { id in routes[id].map { (id, $0) } }
      pending.removeAll()
      for (id, _) in l { routes[id] = nil }
      return (true, l, upstream, currentStep.segment.index + 1)
    }
    guard news else { return }
    for (id, route) in lost {
      route.send(.failure(taskId: id, "the worker of segment \(index) closed its connection"))
    }
    if let up {
      up.send(Self.down(index))
    } else {
      lock.withLock { unreportedLoss = index }  // told to the first upstream heard from
    }
  }

  static func down(_ segment: Int) -> Frame {
    .control(.down, tag: segment, "the worker of segment \(segment) closed its connection")
  }

  /// Takes the segment a `plan` frame names (on the compute queue, between tasks), connects to
  /// the plan's next worker and passes the plan on; the last worker answers `planned`.
  func applyPlan(_ frame: Frame, reply: ShapedLink) {
    let index = Int(frame.tag)
    do throws(AdaError) {
      guard let deploy = config.deploy else {
        throw AdaError(.unsupported, path: "frame.plan", "this worker was started without re-planning")
      }
      let plan = try ChainPlanMessage.decode(frame.message)
      let deployment = try deploy(plan.cutAfter)
      let step = try deployment.step(index)
      let pacing = try config.device.map { (d) throws(AdaError) in
        try deployment.modelledMs(segment: index, device: d)
      }
      let last = index == deployment.chain.segments.count - 1
      let next = last ? nil : try Endpoint.parse(plan.workers[index], option: "frame.plan.workers")
      let (current, active) = lock.withLock { (nextEndpoint, downstreamChannel?.isActive == true) }
      if next != current || !active {
        let old: Channel? = lock.withLock {
          connection += 1  // its close is not news
          defer { (downstream, downstreamChannel, nextEndpoint) = (nil, nil, nil) }
          return downstreamChannel
        }
        try? old?.close().wait()
        if let next { try connectDownstream(next) }
      }
      lock.withLock {
        currentStep = step
        if let pacing { pacer = Pacer(targetMs: pacing) }  // without a device the pacing stays
        unreportedLoss = nil
      }
      let s = step.segment
      config.log?(
        "plan \(plan.epoch): segment \(index) of \(deployment.chain.segments.count) (\(s.nodes.first!.name) … "
          + "\(s.nodes.last!.name)), next \(next.map { "\($0)" } ?? "none")"
          + (pacing.map { String(format: ", paced to %.3f ms", $0) } ?? ""))
      var passed = frame
      passed.tag = UInt16(index + 1)
      if let downstream = lock.withLock({ downstream }), !last {
        downstream.send(passed)
      } else {
        reply.send(.control(.planned, tag: 1, "epoch \(plan.epoch): \(index + 1) segments"))
      }
    } catch {
      config.log?("plan refused: \(error)")
      reply.send(.control(.planned, tag: 0, "segment \(index): \(error)"))
    }
  }
}
