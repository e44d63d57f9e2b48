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
/// and not yet answered is answered with a failure frame.
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

  public let step: SegmentStep
  public let config: Config
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

  let pacer: Pacer?

  public init(step: SegmentStep, config: Config) {
    self.step = step
    self.config = config
    pacer = config.pacingMs.map(Pacer.init)
  }

  /// Tasks processed and the host compute time they took, seconds (pacing not included).
  public var stats: (tasks: Int, computeSeconds: Double) { lock.withLock { (tasksSeen, computeSeconds) } }

  /// Connects to the next worker (if any), then listens. Returns the bound port.
  @discardableResult
  public func start() throws(AdaError) -> Int {
    if let next = config.next {
      let channel = try Connector.connect(to: next, group: group, timeout: config.connectTimeout) {
        FrameReader(
          onFrame: { [weak self] frame, _ in self?.fromDownstream(frame) }, onError: { _ in },
          onClose: { [weak self] in self?.downstreamClosed() })
      }
      downstreamChannel = channel
      downstream = ShapedLink(channel: channel, link: config.link)
    }
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

  /// Closes the connections and stops the event loop.
  public func stop() {
    let first: Bool = lock.withLock {
      defer { stopped = true }
      return !stopped
    }
    guard first else { return }
    try? server?.close().wait()
    try? downstreamChannel?.close().wait()
    compute.sync {}  // let a task in progress finish before its loop goes away
    try? group.syncShutdownGracefully()
  }

  /// Blocks until the listening socket closes.
  public func wait() {
    try? server?.closeFuture.wait()
  }

  func fromUpstream(_ frame: Frame, reply: ShapedLink) {
    guard frame.kind == .features else {
      reply.send(.failure(taskId: frame.taskId, "segment \(step.segment.index) accepts feature frames only"))
      return
    }
    guard Int(frame.tag) == step.segment.index else {
      reply.send(
        .failure(
          taskId: frame.taskId,
          "features for segment \(frame.tag) reached the worker of segment \(step.segment.index)"))
      return
    }
    let arrived = DispatchTime.now().uptimeNanoseconds
    compute.async { [self] in
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
      pacer?.finish(arrivedAt: arrived)
      let leftAt: UInt64
      switch outcome {
      case .answered(let o, let output):
        leftAt = reply.send(
          Frame(kind: .result, taskId: frame.taskId, tag: UInt16(o), tensors: [output]), blocking: true)
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
          blocking: true)
      }
      pacer?.sent(until: leftAt)
    }
  }

  func fromDownstream(_ frame: Frame) {
    let route: ShapedLink? = lock.withLock {
      pending.remove(frame.taskId)
      return routes.removeValue(forKey: frame.taskId)
    }
    route?.send(frame)
  }

  func downstreamClosed() {
    let lost: [(UInt64, ShapedLink)] = lock.withLock {
      let l = pending.compactMap { id in routes[id].map { (id, $0) } }
      pending.removeAll()
      for (id, _) in l { routes[id] = nil }
      return l
    }
    for (id, route) in lost {
      route.send(
        .failure(taskId: id, "the worker of segment \(step.segment.index + 1) closed its connection"))
    }
  }
}
