import AdaBundle
import AdaDistributed
import AdaFormats
import AdaIO
import AdaRecipe
import AdaRuntime
import AdaTensor
import Foundation

/// What each fuzz target does with one input: hand the bytes to the reader a user's file reaches,
/// the way the CLI does, and ignore the `AdaError` it throws. A crash, a sanitizer report, a leak
/// or a timeout is a finding; an error is the reader working.
public enum FuzzBodies {
  /// Keras legacy `.h5`: the bytes are an in-memory HDF5 image (HDF5's core driver).
  public static func h5(_ input: UnsafeBufferPointer<UInt8>) {
    _ = try? KerasModelReader.load(h5Image: Data(input), name: "fuzz.h5")
  }

  /// Keras 3 `.keras`: a zip held in memory, whose `model.weights.h5` member is opened in memory.
  public static func keras(_ input: UnsafeBufferPointer<UInt8>) {
    _ = try? KerasArchiveReader.load(data: Data(input), name: "fuzz.keras")
  }

  /// A model-config JSON (`model.to_json()`, `config.json`) to a graph.
  public static func config(_ input: UnsafeBufferPointer<UInt8>) {
    _ = try? KerasModelReader.graph(configJSON: text(input), file: "fuzz.config.json")
  }

  /// A recipe (YAML), validated as `adascale compress` does before any work.
  public static func recipe(_ input: UnsafeBufferPointer<UInt8>) {
    _ = try? Recipe.parse(text: text(input), file: "fuzz.yaml", baseDirectory: "/nonexistent-fuzz")
  }

  /// A bundle whose `manifest.json` is the input (the lookup table and variant files are those of
  /// the seed bundle under `Fuzz/seed-bundle`), opened and checked as `adascale run` does.
  public static func manifest(_ input: UnsafeBufferPointer<UInt8>) {
    let dir = Scratch.bundle
    Scratch.write(input, to: dir + "/manifest.json")
    _ = try? ModelBundle.open(dir)
  }

  /// A bundle whose `lut.json` is the input (the manifest is the seed bundle's), opened and
  /// checked as `adascale run` does. (`lut.csv` is written for people and never read back.)
  public static func lut(_ input: UnsafeBufferPointer<UInt8>) {
    let dir = Scratch.lutBundle
    Scratch.write(input, to: dir + "/lut.json")
    _ = try? ModelBundle.open(dir)
  }

  /// A context trace (CSV) for `adascale replay` / `simulate`.
  public static func trace(_ input: UnsafeBufferPointer<UInt8>) {
    _ = try? ContextTrace.parse(text(input), file: "fuzz.csv")
  }

  /// A labelled dataset file (HDF5, `x_train`/`y_train`...), both splits, read into memory.
  public static func datasetH5(_ input: UnsafeBufferPointer<UInt8>) {
    let path = Scratch.directory + "/dataset.h5"
    Scratch.write(input, to: path)
    _ = try? DatasetFile.load(path: path, split: .train, limit: 64)
    _ = try? DatasetFile.load(path: path, split: .test)
  }

  /// An IDX file (MNIST format), gzip or plain.
  public static func idx(_ input: UnsafeBufferPointer<UInt8>) {
    let path = Scratch.directory + "/data.idx"
    Scratch.write(input, to: path)
    _ = try? IDXFile.read(path: path)
  }

  /// Model-distributed-inference network frames: the input as a stream (frames decoded one after
  /// another as `Transport` does, a `plan` frame's payload decoded as a worker does), then the
  /// first frame again with its CRC-32 made right, so that the fuzzer reaches the payload decoder
  /// past the checksum.
  public static func frame(_ input: UnsafeBufferPointer<UInt8>) {
    var bytes = Array(input)
    var offset = 0
    while offset < bytes.count, let (frame, consumed) = try? Frame.decode(bytes[offset...]) {
      offset += consumed
      if frame.kind == .plan { _ = try? ChainPlanMessage.decode(frame.message) }
    }
    guard bytes.count >= Frame.headerBytes + 4, bytes.starts(with: Frame.magic) else { return }
    let length = bytes[20..<24].reversed().reduce(0) { $0 << 8 | Int($1) }
    let end = Frame.headerBytes + length
    guard end + 4 <= bytes.count else { return }
    let crc = CRC32.checksum(bytes[0..<end])
    for i in 0..<4 { bytes[end + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    if let frame = try? Frame.decode(complete: Array(bytes[0..<(end + 4)])), frame.kind == .plan {
      _ = try? ChainPlanMessage.decode(frame.message)
    }
  }

  static func text(_ input: UnsafeBufferPointer<UInt8>) -> String { String(decoding: input, as: UTF8.self) }
}

/// Per-process scratch files in /dev/shm (or $TMPDIR) for the readers that take a path.
enum Scratch {
  nonisolated(unsafe) static let directory: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = "\(base)/adascale-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: Scratch.directory) }
    return dir
  }()

  /// A bundle directory holding the seed bundle's `lut.json` and empty variant files
  /// (`FUZZ_BUNDLE_SEED`, default `Fuzz/seed-bundle`); `manifest.json` is written per input.
  nonisolated(unsafe) static let bundle: String = {
    let dir = directory + "/bundle"
    let fm = FileManager.default
    try? fm.createDirectory(atPath: dir + "/variants", withIntermediateDirectories: true)
    let seed = ProcessInfo.processInfo.environment["FUZZ_BUNDLE_SEED"] ?? "Fuzz/seed-bundle"
    if let lut = fm.contents(atPath: seed + "/lut.json") {
      fm.createFile(atPath: dir + "/lut.json", contents: lut)
    } else {
      fatalError("fuzz-manifest: no \(seed)/lut.json (run from the repository root or set FUZZ_BUNDLE_SEED)")
    }
    for v in 1...16 {
      let id = String(format: "v%02d", v)
      for ext in ["h5", "keras", "onnx"] {
        fm.createFile(atPath: "\(dir)/variants/\(id).\(ext)", contents: Data())
      }
    }
    return dir
  }()

  /// Like `bundle`, with the seed bundle's `manifest.json`; `lut.json` is written per input.
  nonisolated(unsafe) static let lutBundle: String = {
    let dir = directory + "/lut-bundle"
    let fm = FileManager.default
    try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try? fm.removeItem(atPath: dir + "/variants")
    try? fm.copyItem(atPath: bundle + "/variants", toPath: dir + "/variants")
    let seed = ProcessInfo.processInfo.environment["FUZZ_BUNDLE_SEED"] ?? "Fuzz/seed-bundle"
    guard let manifest = fm.contents(atPath: seed + "/manifest.json") else {
      fatalError("fuzz-lut: no \(seed)/manifest.json (run from the repository root or set FUZZ_BUNDLE_SEED)")
    }
    fm.createFile(atPath: dir + "/manifest.json", contents: manifest)
    return dir
  }()

  static func write(_ input: UnsafeBufferPointer<UInt8>, to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { fatalError("fuzz: cannot write \(path): \(String(cString: strerror(errno)))") }
    var done = 0
    while done < input.count {
      let n = Foundation.write(fd, input.baseAddress! + done, input.count - done)
      guard n > 0 else { fatalError("fuzz: writing \(path) failed") }
      done += n
    }
    close(fd)
  }
}
