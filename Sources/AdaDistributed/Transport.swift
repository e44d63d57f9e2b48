import AdaTensor
import Foundation
import NIOCore
import NIOPosix

/// Reads frames off a TCP stream: bytes accumulate until a whole frame has arrived, then it is
/// decoded (`Frame.decode`) and handed on. A malformed frame closes the connection after
/// reporting the reason: nothing after it can be trusted.
final class FrameReader: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  private var buffer: [UInt8] = []
  private var start = 0
  /// A decoded frame and the bytes it took on the wire.
  let onFrame: @Sendable (Frame, Int) -> Void
  let onError: @Sendable (AdaError) -> Void
  let onClose: @Sendable () -> Void

  init(
    onFrame: @escaping @Sendable (Frame, Int) -> Void, onError: @escaping @Sendable (AdaError) -> Void,
    onClose: @escaping @Sendable () -> Void
  ) {
    self.onFrame = onFrame
    self.onError = onError
    self.onClose = onClose
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var bytes = unwrapInboundIn(data)
    if let more = bytes.readBytes(length: bytes.readableBytes) { buffer += more }
    do {
      while let (frame, used) = try Frame.decode(buffer[start...]) {
        start += used
        onFrame(frame, used)
      }
    } catch {
      onError(error)
      context.close(promise: nil)
      return
    }
    if start > 0 && start * 2 >= buffer.count {
      buffer.removeFirst(start)
      start = 0
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    onClose()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    onError(AdaError(.internalError, path: "connection", "\(error)"))
    context.close(promise: nil)
  }
}

/// The sending side of one direction of a link, shaped to emulate a slower network (docs/mdi.md,
/// "Emulation"). A token bucket of `mbps` with room for `burstBytes` (kept as the instant the
/// link is free again, GCRA style) gives each frame the instant its last byte has left. The
/// default depth 0 makes every frame hold the link for its own serialisation time
/// (`bytes · 8 / bandwidth`), as the planner charges it; a deeper bucket would let frames
/// through at once while the link is under its rate (a rate limit, not a wire). The frame
/// is written to the socket one link latency after that (frames in flight overlap, as on a real
/// link). A `blocking` send also holds the caller until the frame has left: a device is busy
/// while it transmits (the planner's `compute + bytes / bandwidth`). Unshaped (`link` nil) it
/// writes at once. Counts bytes and frames sent.
///
/// `readyAt` is the emulated instant the sender finished the work whose result this frame carries
/// (`Pacer.finish`'s answer): serialisation starts there, not when the sender's sleep happened
/// to end, so a late wake-up (tens of µs in this VM) is not added to every frame. Without it
/// the real time is used.
public final class ShapedLink: @unchecked Sendable {
  let channel: Channel
  let link: Link?
  private let lock = NSLock()
  private var freeAt: UInt64 = 0
  private var sentBytes = 0
  private var sentFrames = 0
  /// Bytes the bucket lets through back to back after an idle spell.
  public static let burstBytes = 0.0

  init(channel: Channel, link: Link?) {
    self.channel = channel
    self.link = link
  }

  public var bytesSent: Int { lock.withLock { sentBytes } }
  public var framesSent: Int { lock.withLock { sentFrames } }

  /// Sends `frame`; returns the instant (uptime ns) its last byte has left.
  @discardableResult
  public func send(_ frame: Frame, blocking: Bool = false, readyAt: UInt64? = nil) -> UInt64 {
    let bytes = frame.encoded()
    let channel = channel
    let buffer = channel.allocator.buffer(bytes: bytes)
    guard let link else {
      lock.withLock {
        sentBytes += bytes.count
        sentFrames += 1
      }
      channel.writeAndFlush(buffer, promise: nil)
      return DispatchTime.now().uptimeNanoseconds
    }
    let nsPerByte = 8e3 / link.mbps  // 8 bits per byte / (mbps · 10⁶ bit/s), in ns
    let now = DispatchTime.now().uptimeNanoseconds
    let start = min(readyAt ?? now, now)
    let leftAt: UInt64 = lock.withLock {
      sentBytes += bytes.count
      sentFrames += 1
      let burst = UInt64(Self.burstBytes * nsPerByte)
      freeAt = max(start > burst ? start - burst : 0, freeAt) + UInt64(Double(bytes.count) * nsPerByte)
      return freeAt
    }
    if blocking && leftAt > now { Thread.sleep(forTimeInterval: Double(leftAt - now) / 1e9) }
    let arrival = leftAt + UInt64(link.latencyMs * 1e6)
    if arrival <= now {
      channel.writeAndFlush(buffer, promise: nil)
    } else {
      channel.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(arrival)) {
        channel.writeAndFlush(buffer, promise: nil)
      }
    }
    return leftAt
  }
}

/// `host:port`.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// Parses `host:port`; the error names `option`.
  public static func parse(_ text: String, option: String) throws(AdaError) -> Endpoint {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
      (1...65535).contains(port), colon > text.startIndex
    else {
      throw AdaError(
        .invalidValue, path: option, "expected host:port with a port in 1...65535, found '\(text)'")
    }
    return Endpoint(host: String(text[..<colon]), port: port)
  }

  public var description: String { "\(host):\(port)" }
}

enum Connector {
  /// Connects to `endpoint` with a `FrameReader`, retrying every 100 ms until `timeout` seconds
  /// have passed (a neighbour may still be starting).
  static func connect(
    to endpoint: Endpoint, group: EventLoopGroup, timeout: Double,
    reader: @escaping @Sendable () -> FrameReader
  ) throws(AdaError) -> Channel {
    let deadline = Date().addingTimeInterval(timeout)
    var lastError: Error?
    repeat {
      do {
        return try ClientBootstrap(group: group)
          .channelOption(.socketOption(.tcp_nodelay), value: 1)
          .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader()) }
          }
          .connect(host: endpoint.host, port: endpoint.port).wait()
      } catch {
        lastError = error
        Thread.sleep(forTimeInterval: 0.1)
      }
    } while Date() < deadline
    throw AdaError(
      .invalidValue, path: "--next",
      "cannot connect to \(endpoint) within \(timeout) s: \(lastError.map { "\($0)" } ?? "timed out")",
      hint: "start the worker of the next segment first (`adascale mdi serve`)")
  }
}

/// Stretches a device's compute to a modelled time per task (docs/mdi.md, "Emulation"). The
/// emulated device is free again `targetMs` after it could start the task: after the task
/// arrived and after the previous task's emulated end. Sleeping until that instant (not for
/// `targetMs` after the real start) keeps the oversleeping of one task out of the next one's
/// time, so a busy device runs at `1 / targetMs` on average.
final class Pacer: @unchecked Sendable {
  let targetNs: UInt64
  private var freeAt: UInt64 = 0

  init(targetMs: Double) { targetNs = UInt64(max(0, targetMs) * 1e6) }

  /// Call on the compute queue when a task's compute is done; sleeps until its emulated end and
  /// returns that instant (uptime ns: hand it to `ShapedLink.send` as `readyAt`).
  @discardableResult
  func finish(arrivedAt: UInt64) -> UInt64 {
    let now = DispatchTime.now().uptimeNanoseconds
    freeAt = max(max(arrivedAt, freeAt) + targetNs, now)
    if freeAt > now { Thread.sleep(forTimeInterval: Double(freeAt - now) / 1e9) }
    return freeAt
  }

  /// Call when the device has sent the task's results: it was busy until their last byte left
  /// (`ShapedLink.send`'s answer; the emulated instant, so oversleeping does not accumulate).
  func sent(until leftAt: UInt64) { freeAt = max(freeAt, leftAt) }
}
