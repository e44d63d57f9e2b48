import AdaSearch
import AdaTensor
import Foundation

/// A connection to a Ray cluster through `tools/ray/driver.py`, run as a child process and
/// spoken to in `RayProtocol` lines. One session per run; `close()` (or deinit) shuts the
/// driver down. The cluster itself is not started or stopped here (`ray start` / `ray stop`).
public final class RaySession: @unchecked Sendable {
  public struct Configuration: Sendable, Hashable {
    /// The cluster's GCS address, `host:port`.
    public var address: String
    /// The Python with `ray` installed.
    public var python: String
    /// `tools/ray/driver.py`.
    public var driver: String
    /// Retries of a task whose worker process dies (Ray's `max_retries`).
    public var maxRetries = 3
    /// Tasks in flight at once; nil: as many as the cluster has CPUs.
    public var maxInFlight: Int?
    /// Seconds to wait for the head's port to accept a connection before giving up.
    public var connectTimeoutSeconds = 10.0
    /// Seconds to wait for the driver's `ready` (Python start-up, `ray.init`).
    public var readyTimeoutSeconds = 90.0
    /// What errors about the cluster name as their field (`--ray-address` for a command that
    /// has no recipe).
    public var field = "search.ray-address"

    public init(address: String, python: String, driver: String) {
      self.address = address
      self.python = python
      self.driver = driver
    }

    /// The driver script and Python found the usual way: `$ADASCALE_RAY_DRIVER`, else
    /// `tools/ray/driver.py` above the running executable (a build tree) or in the current
    /// directory; `$ADASCALE_RAY_PYTHON`, else `tools/ray/.venv/bin/python` beside the driver
    /// (`make ray-venv`), else `python3` on the PATH.
    public static func locate(address: String) throws(AdaError) -> Configuration {
      let env = ProcessInfo.processInfo.environment
      let fm = FileManager.default
      var driver = env["ADASCALE_RAY_DRIVER"]
      if driver == nil {
        var candidates: [String] = []
        var dir = (executablePath as NSString).deletingLastPathComponent
        for _ in 0..<6 {
          candidates.append((dir as NSString).appendingPathComponent("tools/ray/driver.py"))
          dir = (dir as NSString).deletingLastPathComponent
        }
        candidates.append(fm.currentDirectoryPath + "/tools/ray/driver.py")
        driver = candidates.first { fm.fileExists(atPath: $0) }
      }
      guard let driver, fm.fileExists(atPath: driver) else {
        throw AdaError(
          .fileNotFound, file: driver, path: "search.backend",
          "cannot find the Ray driver script tools/ray/driver.py",
          hint: "set ADASCALE_RAY_DRIVER to its path")
      }
      let venv = ((driver as NSString).deletingLastPathComponent as NSString).appendingPathComponent(
        ".venv/bin/python")
      let python = env["ADASCALE_RAY_PYTHON"] ?? (fm.isExecutableFile(atPath: venv) ? venv : "python3")
      return Configuration(address: address, python: python, driver: driver)
    }
  }

  /// The running executable's absolute path (what Ray tasks run: every node must see it there).
  public static var executablePath: String {
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
    let arg0 = CommandLine.arguments[0]
    return arg0.hasPrefix("/") ? arg0 : FileManager.default.currentDirectoryPath + "/" + arg0
  }

  public let configuration: Configuration
  /// Nodes and CPUs the cluster reported when the session started.
  public private(set) var nodes = 0
  public private(set) var cpus = 0.0
  /// Devices the cluster's nodes offer (`RayProtocol.deviceResource(_:)`), sorted.
  public private(set) var devices: [String] = []
  private let process = Process()
  private let input: FileHandle
  private let lines = LineQueue()
  private var nextBatch = 1
  private var closed = false

  /// Starts the driver and waits for it to connect.
  ///
  /// - Throws: `AdaError` naming the address when the cluster cannot be reached (within
  ///   `connectTimeoutSeconds`), or the driver when it cannot start or does not answer in
  ///   `readyTimeoutSeconds`.
  public init(_ configuration: Configuration) throws(AdaError) {
    self.configuration = configuration
    var args = [
      configuration.driver, "--address", configuration.address, "--max-retries",
      String(configuration.maxRetries), "--connect-timeout", String(configuration.connectTimeoutSeconds),
    ]
    if let n = configuration.maxInFlight { args += ["--max-in-flight", String(n)] }
    if configuration.python.contains("/") {
      process.executableURL = URL(fileURLWithPath: configuration.python)
      process.arguments = args
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [configuration.python] + args
    }
    let toDriver = Pipe()
    let fromDriver = Pipe()
    process.standardInput = toDriver
    process.standardOutput = fromDriver
    input = toDriver.fileHandleForWriting
    do {
      try process.run()
    } catch {
      throw AdaError(
        .fileNotFound, file: configuration.python, path: "search.backend",
        "cannot start the Ray driver: \(error.localizedDescription)",
        hint: "make ray-venv installs Ray into tools/ray/.venv; or set ADASCALE_RAY_PYTHON")
    }
    lines.start(reading: fromDriver.fileHandleForReading)
    let ready: RayProtocol.Event
    do {
      ready = try next(timeout: configuration.readyTimeoutSeconds + configuration.connectTimeoutSeconds)
    } catch {
      close()
      throw error
    }
    guard ready.event == .ready else {
      close()
      throw AdaError(
        .invalidValue, path: configuration.field,
        "Ray cluster at \(configuration.address): \(ready.message ?? "unexpected \(ready.event.rawValue)")",
        hint:
          "start one with: ray start --head --node-ip-address=127.0.0.1 --port=<port>; or use search.backend: local"
      )
    }
    nodes = ready.nodes ?? 0
    cpus = ready.cpus ?? 0
    devices = ready.devices ?? []
  }

  deinit { close() }

  /// Accuracies of `genomes`, each scored by `argv + ["--genomes", …]` in tasks of `chunk`
  /// genomes (0: ⌈genomes / tasks in flight⌉, so each slot starts one worker per batch); `progress(done, total, event)` is called as each result arrives.
  public func evaluate(
    argv: [String], genomes: [Genome], chunk: Int = 0,
    progress: (Int, Int, RayProtocol.Event) -> Void = { _, _, _ in }
  ) throws(AdaError) -> [Double] {
    let batch = try send {
      .evaluate(
        batch: $0, argv: argv, genomes: genomes, chunk: max(0, chunk),
        cwd: FileManager.default.currentDirectoryPath)
    }
    var out = [Double?](repeating: nil, count: genomes.count)
    var done = 0
    while true {
      let e = try next(timeout: nil)
      guard e.batch == batch else { continue }
      switch e.event {
      case .result:
        guard let i = e.index, out.indices.contains(i), let a = e.accuracy else {
          throw AdaError(.badFormat, path: "ray driver", "a result without a valid index and bits")
        }
        if out[i] == nil { done += 1 }
        out[i] = a
        progress(done, genomes.count, e)
      case .done:
        guard done == genomes.count else {
          throw AdaError(
            .internalError, path: "ray driver",
            "batch \(batch) ended with \(done) of \(genomes.count) results")
        }
        return out.map { $0! }
      case .error:
        let genome = e.index.flatMap { genomes.indices.contains($0) ? genomes[$0] : nil }
        throw AdaError(
          .invalidValue, path: "search.backend",
          "a Ray task scoring \(genome.map { "genome \($0)" } ?? "candidates") failed: \(e.message ?? "no message")"
        )
      default: continue
      }
    }
  }

  /// What a `run` job ended with.
  public struct JobResult: Sendable, Hashable {
    public var status: Int
    public var stdout: String
    public var stderr: String
    public var node: String
    public var seconds: Double
    /// The Ray node's id (empty when the job did not run on Ray).
    public var nodeID: String

    public init(
      status: Int, stdout: String, stderr: String, node: String, seconds: Double, nodeID: String = ""
    ) {
      self.status = status
      self.stdout = stdout
      self.stderr = stderr
      self.node = node
      self.seconds = seconds
      self.nodeID = nodeID
    }
  }

  /// Runs each job's command as a task; `progress(index, result)` as each finishes.
  public func run(jobs: [RayProtocol.Job], progress: (Int, JobResult) -> Void = { _, _ in }) throws(AdaError)
    -> [JobResult]
  {
    // A compress run's result depends on OpenBLAS's thread count (SVD initialisation): its tasks
    // get this process's setting, when there is one.
    let threads = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"]
    let batch = try send {
      .run(
        batch: $0, jobs: jobs, cwd: FileManager.default.currentDirectoryPath,
        env: threads.map { ["OPENBLAS_NUM_THREADS": $0] })
    }
    var out = [JobResult?](repeating: nil, count: jobs.count)
    while true {
      let e = try next(timeout: nil)
      guard e.batch == batch else { continue }
      switch e.event {
      case .job:
        guard let i = e.index, out.indices.contains(i) else {
          throw AdaError(.badFormat, path: "ray driver", "a job event without a valid index")
        }
        let r = JobResult(
          status: e.status ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "", node: e.node ?? "?",
          seconds: e.seconds ?? 0, nodeID: e.nodeId ?? "")
        out[i] = r
        progress(i, r)
      case .done:
        return try out.enumerated().map { i, r throws(AdaError) in
          guard let r else {
            throw AdaError(.internalError, path: "ray driver", "job \(jobs[i].name) has no result")
          }
          return r
        }
      case .error:
        throw AdaError(.invalidValue, path: "ray", "Ray job failed: \(e.message ?? "no message")")
      default: continue
      }
    }
  }

  /// Asks the driver to disconnect and waits for it (10 s, then it is terminated).
  public func close() {
    guard !closed else { return }
    closed = true
    if process.isRunning {
      try? input.write(contentsOf: Data((RayProtocol.encode(.shutdown) + "\n").utf8))
    }
    try? input.close()
    let deadline = Date().addingTimeInterval(10)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
    }
  }

  private func send(_ make: (Int) -> RayProtocol.Request) throws(AdaError) -> Int {
    let batch = nextBatch
    nextBatch += 1
    do {
      try input.write(contentsOf: Data((RayProtocol.encode(make(batch)) + "\n").utf8))
    } catch {
      throw driverGone()
    }
    return batch
  }

  /// The next event; nil timeout waits as long as the driver lives.
  private func next(timeout: Double?) throws(AdaError) -> RayProtocol.Event {
    switch lines.next(timeout: timeout) {
    case .line(let text): return try RayProtocol.decode(text)
    case .timedOut:
      throw AdaError(
        .invalidValue, path: configuration.field,
        "no answer from the Ray driver for the cluster at \(configuration.address) within \(Int(timeout ?? 0)) s"
      )
    case .closed: throw driverGone()
    }
  }

  private func driverGone() -> AdaError {
    let deadline = Date().addingTimeInterval(5)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    let status = process.isRunning ? "still running" : "exit status \(process.terminationStatus)"
    return AdaError(
      .invalidValue, path: configuration.field,
      "the Ray driver for the cluster at \(configuration.address) stopped (\(status)); its log is above")
  }
}

/// Lines read from a pipe by a background thread, handed out in order.
private final class LineQueue: @unchecked Sendable {
  enum Item {
    case line(String)
    case timedOut
    case closed
  }

  private let condition = NSCondition()
  private var pending: [String] = []
  private var ended = false

  func start(reading handle: FileHandle) {
    Thread.detachNewThread { [self] in
      var buffer = Data()
      while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        buffer.append(chunk)
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
          let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
          buffer.removeSubrange(buffer.startIndex...newline)
          if line.hasPrefix("{") {
            push(line)
          } else if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            // Not a protocol line (a library printing to standard output): shown, not parsed.
            FileHandle.standardError.write(Data(("ray driver: " + line + "\n").utf8))
          }
        }
      }
      condition.lock()
      ended = true
      condition.broadcast()
      condition.unlock()
    }
  }

  private func push(_ line: String) {
    condition.lock()
    pending.append(line)
    condition.broadcast()
    condition.unlock()
  }

  func next(timeout: Double?) -> Item {
    let deadline = timeout.map { Date().addingTimeInterval($0) }
    condition.lock()
    defer { condition.unlock() }
    while pending.isEmpty && !ended {
      if let deadline {
        if !condition.wait(until: deadline) && pending.isEmpty && !ended { return .timedOut }
      } else {
        condition.wait()
      }
    }
    if !pending.isEmpty { return .line(pending.removeFirst()) }
    return .closed
  }
}
