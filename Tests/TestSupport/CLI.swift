import Foundation

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
  public static func run(_ args: [String], timeout: TimeInterval = 120) throws -> Result {
    let process = Process()
    process.executableURL = binary
    process.arguments = args
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
      return Result(status: -1, stdout: String(decoding: outData, as: UTF8.self), stderr: "timed out after \(timeout) s")
    }
    process.waitUntilExit()
    group.wait()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}
