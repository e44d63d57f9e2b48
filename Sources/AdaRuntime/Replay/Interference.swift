import AdaTensor
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The competing load of a live replay: busy "hog" processes that take CPU time and a
/// "balloon" process that takes memory, started once and retuned row by row through their
/// standard input (`InterferenceHelper`), and ended by their process ids (`stop`, also on
/// deinit). Each helper also ends by itself when this process is gone.
public final class Interference {
  public struct Helper: Codable, Hashable, Sendable {
    public var role: String
    public var pid: Int32
  }

  private var processes: [(role: String, process: Process, input: Pipe, output: Pipe?)] = []
  private var hogDuty = -1.0
  private var activeHogs = -1
  /// MB the balloon last reported holding.
  public private(set) var balloonMB = 0
  private var balloonPending = ""
  public let periodMs: Double

  /// Starts `hogs` idle hog processes and, when `balloon`, an empty balloon; `executable` is
  /// the `adascale` binary (its hidden `interfere` command).
  public init(executable: String, hogs: Int, balloon: Bool, periodMs: Double = 20, seed: UInt64 = 0)
    throws(AdaError)
  {
    self.periodMs = periodMs
    signal(SIGPIPE, SIG_IGN)
    var generator = SeededGenerator(seed: seed)
    do {
      for i in 0..<hogs {
        let phase = Double.random(in: 0..<1, using: &generator)
        try start(
          "hog\(i)", executable,
          ["interfere", "hog", "--period-ms", String(periodMs), "--phase", String(format: "%.4f", phase)])
      }
      if balloon { try start("balloon", executable, ["interfere", "balloon"], readsBack: true) }
    } catch {
      stop()
      throw error
    }
  }

  deinit { stop() }

  /// Every helper's role and process id.
  public var helpers: [Helper] { processes.map { Helper(role: $0.role, pid: $0.process.processIdentifier) } }

  /// Runs `plan.hogs` hogs at `plan.duty`, the rest idle.
  public func apply(_ plan: HogPlan) {
    let hogs = processes.filter { $0.role.hasPrefix("hog") }
    guard plan.hogs != activeHogs || plan.duty != hogDuty else { return }
    for (i, h) in hogs.enumerated() {
      send(i < plan.hogs ? String(format: "%.4f", plan.duty) : "0", to: h.input)
    }
    activeHogs = plan.hogs
    hogDuty = plan.duty
  }

  /// Asks the balloon to hold `mb` MB; it grows or shrinks in the background, and `balloonMB`
  /// follows its reports (`pollBalloon`).
  public func inflate(to mb: Int) {
    guard let balloon = processes.first(where: { $0.role == "balloon" }) else { return }
    send(String(max(mb, 0)), to: balloon.input)
  }

  /// Reads the balloon's reports that have arrived (never blocks) and returns the MB it holds,
  /// touched.
  @discardableResult
  public func pollBalloon() -> Int {
    guard let output = processes.first(where: { $0.role == "balloon" })?.output else { return balloonMB }
    let fd = output.fileHandleForReading.fileDescriptor
    while true {
      var fds = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&fds, 1, 0) > 0 else { break }
      var bytes = [UInt8](repeating: 0, count: 4096)
      let n = read(fd, &bytes, bytes.count)
      guard n > 0 else { break }
      balloonPending += String(decoding: bytes[0..<n], as: UTF8.self)
    }
    if let cut = balloonPending.lastIndex(of: "\n") {
      let complete = balloonPending[..<cut]
      balloonPending = String(balloonPending[balloonPending.index(after: cut)...])
      if let last = complete.split(separator: "\n").last, let held = Int(last) { balloonMB = held }
    }
    return balloonMB
  }

  /// Waits (up to `timeout` s) until the balloon holds `mb` MB.
  @discardableResult
  public func waitForBalloon(_ mb: Int, timeout: Double = 30) -> Bool {
    let deadline = ResourceMonitor.monotonicSeconds() + timeout
    while ResourceMonitor.monotonicSeconds() < deadline {
      let held = pollBalloon()
      if held == mb { return true }
      usleep(5_000)
    }
    return false
  }

  /// Ends every helper: SIGKILL by process id, then reaps it. Idempotent.
  public func stop() {
    for p in processes {
      try? p.input.fileHandleForWriting.close()
      let pid = p.process.processIdentifier
      if pid > 0 { kill(pid, SIGKILL) }
      p.process.waitUntilExit()
    }
    processes = []
  }

  private func start(_ role: String, _ executable: String, _ arguments: [String], readsBack: Bool = false)
    throws(AdaError)
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let input = Pipe()
    process.standardInput = input
    let output = readsBack ? Pipe() : nil
    process.standardOutput = output ?? FileHandle.nullDevice
    process.standardError = FileHandle.standardError
    do {
      try process.run()
    } catch {
      throw AdaError(.internalError, file: executable, "cannot start the \(role) helper: \(error)")
    }
    processes.append((role, process, input, output))
  }

  private func send(_ line: String, to pipe: Pipe) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(pipe.fileHandleForWriting.fileDescriptor, $0.baseAddress, $0.count) }
  }
}
