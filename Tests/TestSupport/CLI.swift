import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs the built `adascale` binary as a user would, for tests of exit codes and messages.
public enum CLI {
  public struct Result {
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// The directory holding the built products (the test bundle sits beside `adascale`).
  public static var productsDirectory: URL {
    #if os(macOS)
      for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
      }
      fatalError("couldn't find the products directory")
    #else
      return Bundle.main.bundleURL
    #endif
  }

  public static var binary: URL { productsDirectory.appendingPathComponent("adascale") }

  /// Runs `adascale args…` with a timeout (a hang is a test failure, not a stuck CI).
  /// With a `wrapper` (e.g. `["/usr/bin/prlimit", "--fsize=4096", "--"]`) the wrapper runs and is
  /// given the binary and `args`; `environment` adds to (or replaces) the test's variables.
  public static func run(
    _ args: [String], wrapper: [String] = [], environment: [String: String] = [:], timeout: TimeInterval = 120
  ) throws -> Result {
    let process = Process()
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let tool = wrapper.first {
      process.executableURL = URL(fileURLWithPath: tool)
      process.arguments = Array(wrapper.dropFirst()) + [binary.path] + args
    } else {
      process.executableURL = binary
      process.arguments = args
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain pipes concurrently so a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      outData = out.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
      group.wait()
      return Result(
        status: -1, stdout: String(decoding: outData, as: UTF8.self), stderr: "timed out after \(timeout) s")
    }
    process.waitUntilExit()
    group.wait()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}

/// A running `adascale` process that a test may interrupt (kill mid-training, then resume).
/// stdout and stderr go to one log file, so a chatty child never blocks on a full pipe.
///
///     let run = try CLI.start(["train", …, "--checkpoint-every", "10"], log: dir.appendingPathComponent("log"))
///     guard run.waitForFile(checkpointPath, timeout: 60) else { … }   // false: exited first
///     run.kill()                                                         // SIGKILL, then reaped
public final class CLIBackgroundProcess {
  public let process: Process
  public let logURL: URL

  public init(_ args: [String], log: URL) throws {
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    process = Process()
    process.executableURL = CLI.binary
    process.arguments = args
    process.standardOutput = handle
    process.standardError = handle
    logURL = log
    try process.run()
    try handle.close()
  }

  deinit {
    if process.isRunning { kill() }
  }

  /// Polls (every 2 ms) until `path` exists while the process still runs. Returns true when the
  /// file appeared first, false when the process exited or `timeout` passed.
  public func waitForFile(_ path: String, timeout: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if FileManager.default.fileExists(atPath: path) { return process.isRunning }
      if !process.isRunning { return false }
      usleep(2_000)
    }
    return false
  }

  /// Sends `signal` (default SIGKILL: no handler runs, nothing is flushed) and waits for the exit.
  public func kill(_ signal: Int32 = SIGKILL) {
    _ = sendSignal(process.processIdentifier, signal)
    process.waitUntilExit()
  }

  /// True when the process ended because of `signal` (not by exiting).
  public func wasKilled(by signal: Int32 = SIGKILL) -> Bool {
    !process.isRunning && process.terminationReason == .uncaughtSignal && process.terminationStatus == signal
  }

  /// Everything the process wrote so far.
  public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
}

extension CLI {
  /// Starts `adascale args…` without waiting (see `CLIBackgroundProcess`).
  public static func start(_ args: [String], log: URL) throws -> CLIBackgroundProcess {
    try CLIBackgroundProcess(args, log: log)
  }
}

/// `kill(2)`, named apart from `CLIBackgroundProcess.kill`.
private func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 { kill(pid, signal) }
