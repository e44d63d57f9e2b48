import AdaCore
import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import ArgumentParser
import Foundation

/// Files from elsewhere (models, input tensors, dataset files) are decoded once in a child
/// process — `adascale decode-check`, this binary run again — before this process decodes
/// them. The HDF5 C library is not robust against damaged files: it can crash (a segfault in
/// its global-heap reader, `H5HG_read`) or loop forever on them, and nothing adascale checks
/// first can prevent that. In the child, a crash or a hang costs only the child; this process
/// reports it as an error naming the file (exit 1). A child that ends normally decoded the same
/// file with the same code, so this process then decodes it safely; a child that found an
/// ordinary error (a model or tensor file) hands it over and this process reports it without
/// decoding the file again. The cost is one more decode and a process start (docs/testing.md
/// has it); `ADASCALE_DECODE_IN_PROCESS=1` skips the child.
enum IsolatedDecode {
  enum Kind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case model, tensors, dataset
  }

  /// Set to 1 to decode in this process only (the child runs with it set).
  static let inProcessVariable = "ADASCALE_DECODE_IN_PROCESS"
  /// Seconds the child may take (default: 20 s plus 1 s per 10 MB of file).
  static let timeoutVariable = "ADASCALE_DECODE_TIMEOUT_S"

  /// A Keras model, decoded in a child first.
  static func loadModel(_ path: String, config: String? = nil) throws(AdaError) -> Model {
    try check(.model, path, config: config)
    return try KerasFile.load(path: path, config: config)
  }

  /// A Keras model with its stored quantized weights, decoded in a child first.
  static func loadModelWithQuantized(_ path: String, config: String? = nil) throws(AdaError) -> (
    model: Model, quantized: QuantizedWeights
  ) {
    try check(.model, path, config: config)
    return try KerasFile.loadWithQuantized(path: path, config: config)
  }

  /// Runs `adascale decode-check kind path` and turns a crash or a hang of it into an error
  /// naming `path`. Does nothing for a path that is not a file (the caller's own decode says
  /// what is wrong) or when the child cannot be started.
  static func check(_ kind: Kind, _ path: String, config: String? = nil, dataset: String? = nil)
    throws(AdaError)
  {
    let env = ProcessInfo.processInfo.environment
    var isDirectory: ObjCBool = false
    guard env[inProcessVariable] != "1",
      FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
    else { return }
    let bytes = FileStatus.size(path) ?? 0
    let timeout = env[timeoutVariable].flatMap(Double.init) ?? 20 + Double(bytes) / 10e6
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Bundle.main.executablePath ?? "/proc/self/exe")
    // The child's two files: the error it found (JSON, for this process to report as it is)
    // and its standard error (after a crash, its last lines say whose it was).
    let stem = FileManager.default.temporaryDirectory.appendingPathComponent(
      "adascale-decode-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    let errorFile = stem.appendingPathExtension("error.json")
    let errorLog = stem.appendingPathExtension("log")
    defer { try? FileManager.default.removeItem(at: errorFile) }
    process.arguments =
      ["decode-check", kind.rawValue, path, "--error-file", errorFile.path]
      + (config.map { ["--config", $0] } ?? []) + (dataset.map { ["--dataset", $0] } ?? [])
    var childEnvironment = env
    childEnvironment[inProcessVariable] = "1"
    childEnvironment["SWIFT_BACKTRACE"] = "enable=no"  // a crash there is expected, and quick
    process.environment = childEnvironment
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
    let errorHandle = try? FileHandle(forWritingTo: errorLog)
    process.standardError = errorHandle ?? FileHandle.nullDevice
    defer {
      try? errorHandle?.close()
      try? FileManager.default.removeItem(at: errorLog)
    }
    let finished = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in finished.signal() }
    do { try process.run() } catch { return }
    if finished.wait(timeout: .now() + timeout) == .timedOut {
      kill(process.processIdentifier, SIGKILL)
      finished.wait()
      throw AdaError(
        .badFormat, file: path,
        "decoding did not finish within \(Int(timeout)) s: the HDF5 library loops on this file, which is damaged",
        hint: "re-create the file; \(timeoutVariable) raises the limit for a very large file")
    }
    if process.terminationReason == .exit, process.terminationStatus == 1,
      let data = FileManager.default.contents(atPath: errorFile.path),
      let error = try? JSONDecoder().decode(AdaError.self, from: data)
    {
      throw error
    }
    if process.terminationReason == .uncaughtSignal {
      let signal = process.terminationStatus
      let tail = (try? FileHandle(forReadingFrom: errorLog)).map { h in
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: size > 8192 ? size - 8192 : 0)
        return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
      }
      switch ChildCrash(signal: signal, stderr: tail ?? "") {
      case .ours(let line):
        throw AdaError(
          .internalError, file: path,
          "adascale crashed decoding this file in a separate process (\(ChildCrash.name(signal))): \(line)",
          hint: "this is a bug in adascale, not only a damaged file: please report it with the file")
      case .killed:
        throw AdaError(
          .badFormat, file: path,
          "the process decoding this file was killed (\(ChildCrash.name(signal))), most likely by the "
            + "out-of-memory killer: the file may announce more data than this machine can hold",
          hint: "check the file's sizes (h5dump -H), or free memory and try again")
      case .library:
        throw AdaError(
          .badFormat, file: path,
          "the HDF5 library crashed (\(ChildCrash.name(signal))) decoding this file in a separate process, "
            + "with no error of adascale's; the file is damaged",
          hint: "re-create the file (e.g. save the model again from Keras)")
      }
    }
  }
}

/// `adascale decode-check KIND FILE`: decodes the file as the commands do and exits 0, or 1
/// with the error. Not for users: run by `IsolatedDecode` in a child process.
struct DecodeCheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "decode-check", abstract: "Decode a file in isolation (used internally).",
    shouldDisplay: false)

  @Argument var kind: IsolatedDecode.Kind
  @Argument var path: String
  @Option var config: String?
  @Option var dataset: String?
  /// Where to write the error a model or tensor file gave (JSON), for the parent to report.
  @Option var errorFile: String?

  func run() throws {
    do throws(AdaError) {
      switch kind {
      case .model:
        _ = try KerasFile.loadWithQuantized(path: path, config: config)
      case .tensors:
        _ = try TensorFile.read(path: path, dataset: dataset ?? "x")
      case .dataset:
        // Metadata and labels of both splits, and the first examples (the rows are plain
        // numbers). Only a crash or a hang matters here: errors are the parent's to report.
        for split in [DatasetSplit.train, .test] {
          _ = try? DatasetFile.load(path: path, split: split, limit: 8)
        }
      }
    } catch {
      if let errorFile, let data = try? JSONEncoder().encode(error) {
        try? data.write(to: URL(fileURLWithPath: errorFile))
      }
      throw error
    }
  }
}
