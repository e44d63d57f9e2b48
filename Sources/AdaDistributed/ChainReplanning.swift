import AdaTensor
import Foundation

/// What a `plan` frame carries (JSON): the chain's new cuts and the workers that remain, in
/// chain order. Each worker takes the segment the frame's tag names, connects to the next
/// worker of the list, and passes the frame on with the tag one higher; the last one answers
/// with a `planned` frame (docs/mdi.md, "Re-planning").
public struct ChainPlanMessage: Codable, Hashable, Sendable {
  /// 1 for the first re-plan of a run, and so on.
  public var epoch: Int
  /// The nodes the variant is cut after: one per worker.
  public var cutAfter: [String]
  /// `host:port` of the workers of segments 1, 2, … in order.
  public var workers: [String]

  public init(epoch: Int, cutAfter: [String], workers: [String]) {
    self.epoch = epoch
    self.cutAfter = cutAfter
    self.workers = workers
  }

  enum CodingKeys: String, CodingKey { case epoch, cutAfter = "cut_after", workers }

  public func encoded() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding strings and an integer cannot fail.
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  public static func decode(_ text: String) throws(AdaError) -> ChainPlanMessage {
    let message: ChainPlanMessage
    do {
      message = try JSONDecoder().decode(ChainPlanMessage.self, from: Data(text.utf8))
    } catch {
      throw AdaError(.badFormat, path: "frame.plan", "not a chain plan: \(text.prefix(200))")
    }
    guard message.cutAfter.count == message.workers.count else {
      throw AdaError(
        .badFormat, path: "frame.plan",
        "\(message.cutAfter.count) cuts for \(message.workers.count) workers: expected one cut per worker")
    }
    return message
  }
}

/// How a source re-cuts its chain when a worker is gone: the workers it may use, how to plan
/// over those that remain and how to load the variant cut that way (docs/mdi.md, "Re-planning").
public struct ChainReplanning: Sendable {
  /// The workers of segments 1, 2, … when the run starts.
  public var workers: [Endpoint]
  /// Device names: the source's first, then one per worker (for the report).
  public var devices: [String]
  /// The cuts the run starts with (one node name per worker).
  public var initialCutAfter: [String]
  /// The cuts for a chain of the source and the workers at `alive` (indices into `workers`, in
  /// chain order): one node name per remaining worker, none when no worker remains.
  public var plan: @Sendable (_ alive: [Int]) throws(AdaError) -> [String]
  /// The variant cut after these nodes.
  public var deploy: @Sendable (_ cutAfter: [String]) throws(AdaError) -> MDIDeployment
  /// The source's pacing of a deployment's segment 0, ms (nil: not paced).
  public var sourcePacing: @Sendable (MDIDeployment) throws(AdaError) -> Double? = { _ in nil }
  /// Seconds to wait for the tasks in flight to end (answered, or failed by the loss) before
  /// failing the rest; then seconds to wait for the chain to apply the new plan.
  public var drainTimeout = 2.0
  public var ackTimeout = 10.0

  public init(
    workers: [Endpoint], devices: [String], initialCutAfter: [String],
    plan: @escaping @Sendable ([Int]) throws(AdaError) -> [String],
    deploy: @escaping @Sendable ([String]) throws(AdaError) -> MDIDeployment
  ) {
    self.workers = workers
    self.devices = devices
    self.initialCutAfter = initialCutAfter
    self.plan = plan
    self.deploy = deploy
  }
}

/// One re-plan of a run (`MDIRunReport.replans`).
public struct ReplanEvent: Codable, Hashable, Sendable {
  /// The epoch the new plan starts (tasks admitted from then on carry it).
  public var epoch: Int
  /// Seconds since the run started when the loss was noticed.
  public var atSeconds: Double
  /// The segment whose worker was gone, in the plan that lost it, and that worker.
  public var goneSegment: Int
  public var goneWorker: String
  public var goneDevice: String
  public var reason: String
  public var cutAfterBefore: [String]
  public var cutAfter: [String]
  /// The chain's devices after re-planning, source first.
  public var devices: [String]
  /// From noticing the loss to admitting again: draining, planning, the chain applying it.
  public var seconds: Double
  /// Why re-planning failed (the run then fails what it cannot forward).
  public var error: String?

  enum CodingKeys: String, CodingKey {
    case epoch, reason, devices, seconds, error
    case atSeconds = "at_seconds"
    case goneSegment = "gone_segment"
    case goneWorker = "gone_worker"
    case goneDevice = "gone_device"
    case cutAfterBefore = "cut_after_before"
    case cutAfter = "cut_after"
  }
}
