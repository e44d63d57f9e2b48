import AdaCore
import AdaTensor
import CHDF5
import Foundation

/// An open HDF5 file. Owns the C file identifier and closes it on `deinit` (or `close()`).
///
/// Every failure is an `AdaError` naming `path` (the file) and the HDF5 path inside it.
/// All calls are serialised by `HDF5Library`'s global lock, so a file may be shared between
/// concurrent tasks (they take turns; HDF5 itself is single-threaded here).
///
///     let f = try HDF5File.open("model.h5")
///     let names = try f.root.group("model_weights").readSplitStrings(attribute: "layer_names")
///     let kernel = try f.root.dataset("model_weights/dense/dense/kernel").readTensor()
public final class HDF5File: @unchecked Sendable {
  /// The file's name as given by the caller (used in every error).
  public let path: String
  /// Whether the file was created for writing.
  public let isWritable: Bool
  /// C identifier; -1 once closed. Read and written only with the HDF5 lock held.
  private var handle: hid_t
  /// Built in memory (`createInMemory`): `close()` writes the image to `path`.
  private let inMemory: Bool
  /// The file's length when opened for reading (what any size it states is checked against,
  /// `HDF5Bounds`); `Int.max` for a file being written.
  public let byteCount: Int
  /// What the global heap check (`HDF5GlobalHeap`) found; nil until it runs: at open for an
  /// image, before the first variable-length string for a file on disk. Lock held.
  private var globalHeap: Result<Void, AdaError>?

  private init(
    path: String, handle: hid_t, writable: Bool, inMemory: Bool = false, byteCount: Int = .max,
    globalHeapChecked: Bool = false
  ) {
    self.path = path
    self.handle = handle
    self.isWritable = writable
    self.inMemory = inMemory
    self.byteCount = byteCount
    self.globalHeap = globalHeapChecked || writable ? .success(()) : nil
  }

  deinit {
    let h = handle
    if h >= 0 { HDF5Library.locked { _ = H5Fclose(h) } }
  }

  /// Opens an existing file read-only. Missing → `.fileNotFound`; not HDF5, truncated or
  /// unreadable → `.badFormat`.
  public static func open(_ path: String) throws(AdaError) -> HDF5File {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw AdaError(.fileNotFound, file: path, "file does not exist")
    }
    guard !isDirectory.boolValue else {
      throw AdaError(.badFormat, file: path, "is a directory, expected an HDF5 file")
    }
    try FileStatus.requireRegularOrDirectory(path)
    return try HDF5Library.run { () throws(AdaError) -> HDF5File in
      let probe = H5Fis_hdf5(path)
      if probe <= 0 {
        _ = HDF5Library.takeErrorMessage()
        throw AdaError(.badFormat, file: path, "not an HDF5 file (no HDF5 signature found)")
      }
      let id = H5Fopen(path, adahdf5_acc_rdonly(), HDF5Library.defaultList)
      guard id >= 0 else {
        throw HDF5Library.failure(
          .badFormat, file: path, path: nil, "cannot open HDF5 file; it may be truncated or corrupt")
      }
      return HDF5File(path: path, handle: id, writable: false, byteCount: FileStatus.size(path) ?? .max)
    }
  }

  /// Creates (or truncates) a file for writing. Prefer writing to a temporary name and renaming
  /// (see `AtomicFile`), so readers never see a half-written file.
  public static func create(_ path: String) throws(AdaError) -> HDF5File {
    try HDF5Library.run { () throws(AdaError) -> HDF5File in
      let id = H5Fcreate(
        path, adahdf5_acc_trunc(), HDF5Library.defaultList, HDF5Library.defaultList)
      guard id >= 0 else {
        throw HDF5Library.failure(.writeFailed, file: path, path: nil, "cannot create HDF5 file")
      }
      return HDF5File(path: path, handle: id, writable: true)
    }
  }

  /// Creates a file that HDF5 builds in memory; `close()` writes it to `path` with plain
  /// write(2) calls. HDF5 itself never writes to disk, so a failing disk (full, or past a
  /// file-size limit) is an error naming `path` with the system's reason, and never leaves the
  /// C library holding a half-flushed file (which crashed it at exit). A file not closed is
  /// not written. For the writers of whole files (Keras models, tensor files).
  public static func createInMemory(_ path: String) throws(AdaError) -> HDF5File {
    try HDF5Library.run { () throws(AdaError) -> HDF5File in
      let fapl = HDF5Handle(H5Pcreate(adahdf5_p_file_access()), .propertyList)
      guard fapl.id >= 0, H5Pset_fapl_core(fapl.id, 1 << 20, false) >= 0 else {
        throw HDF5Library.failure(.internalError, file: path, path: nil, "cannot set up in-memory HDF5")
      }
      let id = H5Fcreate(path, adahdf5_acc_trunc(), HDF5Library.defaultList, fapl.id)
      guard id >= 0 else {
        throw HDF5Library.failure(.writeFailed, file: path, path: nil, "cannot create HDF5 file")
      }
      return HDF5File(path: path, handle: id, writable: true, inMemory: true)
    }
  }

  /// Opens an HDF5 file held in memory (e.g. `model.weights.h5` inside a `.keras` zip), read-only.
  /// `name` is used in errors, e.g. `"m.keras:model.weights.h5"`.
  public static func open(image: Data, name: String) throws(AdaError) -> HDF5File {
    guard image.count >= 8, image.prefix(8).elementsEqual([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])
    else {
      throw AdaError(.badFormat, file: name, "not an HDF5 file (no HDF5 signature found)")
    }
    return try HDF5Library.run { () throws(AdaError) -> HDF5File in
      let fapl = HDF5Handle(H5Pcreate(adahdf5_p_file_access()), .propertyList)
      guard fapl.id >= 0, H5Pset_fapl_core(fapl.id, 1 << 16, false) >= 0 else {
        throw HDF5Library.failure(.internalError, file: name, path: nil, "cannot set up in-memory HDF5")
      }
      var bytes = [UInt8](image)
      let status = bytes.withUnsafeMutableBytes { buffer in
        H5Pset_file_image(fapl.id, buffer.baseAddress, buffer.count)  // HDF5 copies the buffer
      }
      guard status >= 0 else {
        throw HDF5Library.failure(.badFormat, file: name, path: nil, "cannot load HDF5 image")
      }
      let id = H5Fopen(name, adahdf5_acc_rdonly(), fapl.id)
      guard id >= 0 else {
        throw HDF5Library.failure(
          .badFormat, file: name, path: nil, "cannot open HDF5 data; it may be truncated or corrupt")
      }
      let file = HDF5File(
        path: name, handle: id, writable: false, byteCount: image.count, globalHeapChecked: true)
      if let lengthSize = Self.lengthSize(id) {
        try HDF5GlobalHeap.check(bytes, lengthSize: lengthSize, file: name)
      }
      return file
    }
  }

  /// Flushes (when writable) and closes the file; an in-memory file is then written to `path`.
  /// Further use throws. Safe to call twice.
  public func close() throws(AdaError) {
    let image = try HDF5Library.run { () throws(AdaError) -> [UInt8]? in
      guard handle >= 0 else { return nil }
      let h = handle
      handle = -1
      if isWritable, H5Fflush(h, H5F_SCOPE_GLOBAL) < 0 {
        _ = H5Fclose(h)
        throw HDF5Library.failure(.writeFailed, file: path, path: nil, "cannot flush HDF5 file")
      }
      var image: [UInt8]?
      if inMemory {
        let size = H5Fget_file_image(h, nil, 0)
        var bytes = [UInt8](repeating: 0, count: max(size, 0))
        let copied = bytes.withUnsafeMutableBytes { H5Fget_file_image(h, $0.baseAddress, $0.count) }
        guard size > 0, copied == size else {
          _ = H5Fclose(h)
          throw HDF5Library.failure(
            .writeFailed, file: path, path: nil, "cannot take the in-memory HDF5 image")
        }
        image = bytes
      }
      if H5Fclose(h) < 0 {
        throw HDF5Library.failure(.writeFailed, file: path, path: nil, "cannot close HDF5 file")
      }
      return image
    }
    if let image { try AtomicFile.writeBytes(Data(image), to: path, what: "the HDF5 file") }
  }

  /// Checks the file's global heap once (`HDF5GlobalHeap`) and throws what it found, on this
  /// and every later call. Called under the lock before HDF5 decodes a variable-length string.
  func checkGlobalHeap() throws(AdaError) {
    if globalHeap == nil {
      globalHeap = .success(())
      if handle >= 0, let lengthSize = Self.lengthSize(handle) {
        do throws(AdaError) {
          try HDF5GlobalHeap.check(path: path, lengthSize: lengthSize)
        } catch {
          globalHeap = .failure(error)
        }
      }
    }
    if case .failure(let damage) = globalHeap { throw damage }
  }

  /// The file's "size of lengths" (bytes of every length HDF5 stores in it), nil if HDF5 cannot say.
  private static func lengthSize(_ id: hid_t) -> Int? {
    let fcpl = HDF5Handle(H5Fget_create_plist(id), .propertyList)
    var addressSize = 0
    var lengthSize = 0
    guard fcpl.id >= 0, H5Pget_sizes(fcpl.id, &addressSize, &lengthSize) >= 0 else {
      _ = HDF5Library.takeErrorMessage()
      return nil
    }
    return lengthSize
  }

  /// The identifier, for wrapper code running under the lock. Throws once closed.
  func id(at location: String?) throws(AdaError) -> hid_t {
    guard handle >= 0 else {
      throw AdaError(.internalError, file: path, path: location, "HDF5 file used after close()")
    }
    return handle
  }

  /// The root group `/`.
  public var root: HDF5Group { HDF5Group(file: self, path: "/") }

  /// Whether an object (group or dataset) exists at `path` (absolute or relative to the root).
  public func exists(_ path: String) -> Bool { root.contains(path) }
}
