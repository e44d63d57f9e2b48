import AdaTensor
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A check of a file's global heap collections, made before HDF5 decodes a variable-length
/// string (Keras keeps its model config, layer and weight names as such strings).
///
/// The global heap is where HDF5 keeps variable-length data: collections that start with
/// `GCOL`, version 1, and hold objects one after another, each with a 16-bit index and a size.
/// HDF5 1.10 (`H5HG__cache_heap_deserialize`) walks a collection by those sizes and trusts them:
/// - an object of index 0 (free space) whose size is 0 never moves the walk on, and the reader
///   loops for ever (every hang the fuzzers found in fuzz-h5 and fuzz-keras);
/// - an object whose size runs past the collection's end is later copied out of it
///   (`H5HG_read`), past the end of HDF5's buffer.
///
/// `check` makes the same walk over the file's bytes, before HDF5 does, and turns either into
/// an error naming the byte offsets. It finds collections by their signature and version; bytes
/// that only look like one (in weights, say) are skipped when their stated size does not fit
/// in the file, which is what HDF5 would find too.
enum HDF5GlobalHeap {
  static let signature: [UInt8] = Array("GCOL".utf8)
  static let version: UInt8 = 1

  /// Checks every collection in `bytes` (the whole file); `lengthSize` is the file's "size of
  /// lengths" (superblock; 8 from h5py). Throws `.badFormat` naming `file` and the offsets.
  static func check(_ bytes: UnsafeRawBufferPointer, lengthSize: Int, file: String) throws(AdaError) {
    guard let base = bytes.baseAddress, (1...8).contains(lengthSize) else { return }
    var from = 0
    // memchr for the first byte, then the rest: at memory speed over weights.
    while from + 8 + lengthSize <= bytes.count,
      let hit = memchr(base + from, Int32(signature[0]), bytes.count - from)
    {
      let offset = base.distance(to: UnsafeRawPointer(hit))
      from = offset + 1
      guard offset + 8 + lengthSize <= bytes.count, bytes[offset + 4] == version,
        bytes[offset + 1] == signature[1], bytes[offset + 2] == signature[2],
        bytes[offset + 3] == signature[3]
      else { continue }
      try walk(bytes, collection: offset, lengthSize: lengthSize, file: file)
    }
  }

  /// HDF5's walk over the collection at `collection`.
  static func walk(_ bytes: UnsafeRawBufferPointer, collection: Int, lengthSize: Int, file: String)
    throws(AdaError)
  {
    let stated = decode(bytes, at: collection + 8, width: lengthSize)
    // A size that does not fit in the file: HDF5 fails to read the collection (an error, not a
    // walk), and random bytes that only look like a signature are passed over.
    guard stated <= UInt64(bytes.count - collection) else { return }
    let size = Int(stated)
    let header = align8(8 + lengthSize)
    let objectHeader = align8(8 + lengthSize)
    var at = header
    while at < size {
      // Too little left for an object header: HDF5 takes the rest as free space and stops.
      if at + objectHeader > size { return }
      let index = Int(decode(bytes, at: collection + at, width: 2))
      let objectSize = decode(bytes, at: collection + at + 8, width: lengthSize)
      let location =
        "global heap collection at byte \(collection), object \(index) at byte \(collection + at)"
      // The free space (index 0) states its size whole; an object its data, padded to 8 bytes.
      let need: UInt64
      if index == 0 {
        need = objectSize
      } else {
        // Saturating: a sum past 2^64 is past the collection's end all the same.
        let (padded, overflow) = objectSize.addingReportingOverflow(7)
        let (total, past) = UInt64(objectHeader).addingReportingOverflow(padded & ~7)
        need = overflow || past ? .max : total
      }
      if need == 0 {
        throw AdaError(
          .badFormat, file: file, path: location,
          "free space of size 0: the HDF5 library would read this collection for ever")
      }
      guard need <= UInt64(size - at) else {
        throw AdaError(
          .badFormat, file: file, path: location,
          "states \(objectSize) bytes, past the collection's end at byte \(collection + size)")
      }
      at += Int(need)
    }
  }

  /// `check` over a file held in memory.
  static func check(_ bytes: [UInt8], lengthSize: Int, file: String) throws(AdaError) {
    let damage = bytes.withUnsafeBytes { buffer -> AdaError? in
      do throws(AdaError) {
        try check(buffer, lengthSize: lengthSize, file: file)
        return nil
      } catch { return error }
    }
    if let damage { throw damage }
  }

  /// `check` over the file at `path`, mapped rather than read.
  static func check(path: String, lengthSize: Int) throws(AdaError) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return }  // HDF5 opened it; a file gone since fails at HDF5's next read
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_size > 0 else { return }
    let length = Int(info.st_size)
    guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else { return }
    defer { munmap(mapped, length) }
    try check(UnsafeRawBufferPointer(start: mapped, count: length), lengthSize: lengthSize, file: path)
  }

  private static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int, width: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in (0..<width).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
    return value
  }

  private static func align8(_ n: Int) -> Int { (n + 7) & ~7 }
}
