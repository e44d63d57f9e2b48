import AdaTensor

#if _endian(big)
  #error("the MDI wire format copies Float32 bits as the host stores them: little-endian hosts only")
#endif

extension Frame {
  /// The frame's bytes.
  public func encoded() -> [UInt8] {
    var payload: [UInt8] = []
    if kind.isText {
      payload = Array(message.utf8)
    } else {
      for t in tensors {
        precondition(t.rank <= Self.maxRank, "Frame: rank \(t.rank) above \(Self.maxRank)")
        payload.append(UInt8(t.rank))
        for d in t.shape { payload.appendLE(UInt32(d)) }
        switch encoding {
        case .float32:
          // Float32 bits in little-endian order: the host's own on every platform adascale runs on.
          t.scalars.withUnsafeBytes { payload.append(contentsOf: $0) }
        case .int8:
          let (scale, values) = FeatureQuantizer.quantize(t)
          payload.appendLE(scale.bitPattern)
          for v in values { payload.append(UInt8(bitPattern: v)) }
        }
      }
    }
    var out = Self.magic
    out.append(Self.version)
    out.append(kind.rawValue)
    out.append(encoding.wireCode)
    out.append(UInt8(kind.isText ? 0 : tensors.count))
    out.appendLE(taskId)
    out.appendLE(tag)
    out.appendLE(point)
    out.appendLE(UInt32(payload.count))
    out += payload
    out.appendLE(CRC32.checksum(out[...]))
    return out
  }

  /// Reads one frame from the start of `bytes`. Returns nil when `bytes` holds only part of a
  /// frame (read more and call again); the frame and how many bytes it took otherwise. A
  /// malformed frame throws an error whose path names the field (`frame.magic`,
  /// `frame.tensors[1].dims`, …): the stream cannot be trusted after it.
  public static func decode(_ bytes: ArraySlice<UInt8>) throws(AdaError) -> (frame: Frame, consumed: Int)? {
    let base = bytes.startIndex
    // Check what has arrived of the header as early as possible: garbage fails fast.
    for i in 0..<min(4, bytes.count) where bytes[base + i] != magic[i] {
      throw AdaError(
        .badFormat, path: "frame.magic", "expected \"AMDI\", found bytes \(Array(bytes.prefix(4)))")
    }
    guard bytes.count >= headerBytes else { return nil }
    var r = ByteReader(bytes: bytes, offset: base + 4)
    let version = r.u8()
    guard version == Self.version else {
      throw AdaError(.badFormat, path: "frame.version", "expected version \(Self.version), found \(version)")
    }
    let kindByte = r.u8()
    guard let kind = Kind(rawValue: kindByte) else {
      throw AdaError(
        .badFormat, path: "frame.kind",
        "expected 1 (features), 2 (result), 3 (failure), 4 (plan), 5 (planned) or 6 (down), found \(kindByte)"
      )
    }
    let encodingByte = r.u8()
    guard let encoding = FeatureEncoding(wireCode: encodingByte) else {
      throw AdaError(
        .badFormat, path: "frame.encoding", "expected 0 (float32) or 1 (int8), found \(encodingByte)")
    }
    let count = Int(r.u8())
    let taskId = r.u64()
    let tag = r.u16()
    let point = r.u16()
    let length = Int(r.u32())
    guard length <= maxPayloadBytes else {
      throw AdaError(
        .badFormat, path: "frame.length",
        "payload of \(length) bytes is above the limit of \(maxPayloadBytes)")
    }
    guard bytes.count >= headerBytes + length + 4 else { return nil }
    let end = base + headerBytes + length
    var c = ByteReader(bytes: bytes, offset: end)
    let stored = c.u32()
    let computed = CRC32.checksum(bytes[base..<end])
    guard stored == computed else {
      throw AdaError(
        .badFormat, path: "frame.checksum",
        "CRC-32 \(String(computed, radix: 16)) of the frame does not match the stored \(String(stored, radix: 16))"
      )
    }
    var frame = Frame(kind: kind, taskId: taskId, tag: tag, point: point, encoding: encoding)
    var p = ByteReader(bytes: bytes, offset: base + headerBytes)
    if kind.isText {
      guard count == 0 else {
        throw AdaError(.badFormat, path: "frame.count", "a \(kind) frame carries no tensors, found \(count)")
      }
      frame.message = String(decoding: bytes[p.offset..<end], as: UTF8.self)
      return (frame, headerBytes + length + 4)
    }
    for k in 0..<count {
      let at = "frame.tensors[\(k)]"
      guard p.remaining(to: end) >= 1 else { throw Self.short(at, "rank") }
      let rank = Int(p.u8())
      guard (1...maxRank).contains(rank) else {
        throw AdaError(.badFormat, path: "\(at).rank", "expected a rank in 1...\(maxRank), found \(rank)")
      }
      guard p.remaining(to: end) >= 4 * rank else { throw Self.short(at, "dims") }
      var shape: [Int] = []
      var elements = 1
      for _ in 0..<rank {
        let d = Int(p.u32())
        guard d > 0 else { throw AdaError(.badFormat, path: "\(at).dims", "a dimension is 0") }
        elements = elements.multipliedReportingOverflow(by: d).partialValue
        guard elements <= maxPayloadBytes else {
          throw AdaError(
            .badFormat, path: "\(at).dims", "\(shape + [d]) holds more scalars than the payload can")
        }
        shape.append(d)
      }
      switch encoding {
      case .float32:
        guard p.remaining(to: end) >= 4 * elements else { throw Self.short(at, "data of shape \(shape)") }
        var scalars = [Float](repeating: 0, count: elements)
        scalars.withUnsafeMutableBytes { dst in
          bytes[p.offset..<(p.offset + 4 * elements)].withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        p.offset += 4 * elements
        frame.tensors.append(Tensor(shape: shape, scalars: scalars))
      case .int8:
        guard p.remaining(to: end) >= 4 + elements else { throw Self.short(at, "data of shape \(shape)") }
        let scale = Float(bitPattern: p.u32())
        guard scale.isFinite, scale > 0 else {
          throw AdaError(.badFormat, path: "\(at).scale", "expected a finite scale > 0, found \(scale)")
        }
        let values = bytes[p.offset..<(p.offset + elements)].map { Int8(bitPattern: $0) }
        p.offset += elements
        frame.tensors.append(FeatureQuantizer.dequantize(shape: shape, scale: scale, values: values))
      }
    }
    guard p.offset == end else {
      throw AdaError(
        .badFormat, path: "frame.length",
        "\(end - p.offset) bytes left over after \(count) tensors (length \(length) disagrees with the shapes)"
      )
    }
    return (frame, headerBytes + length + 4)
  }

  /// Decodes exactly one whole frame; a truncated one is an error.
  public static func decode(complete bytes: [UInt8]) throws(AdaError) -> Frame {
    guard let (frame, consumed) = try decode(bytes[...]) else {
      throw AdaError(
        .badFormat, path: "frame", "truncated: \(bytes.count) bytes, fewer than the header and length say")
    }
    guard consumed == bytes.count else {
      throw AdaError(.badFormat, path: "frame", "\(bytes.count - consumed) bytes after the frame")
    }
    return frame
  }

  static func short(_ at: String, _ what: String) -> AdaError {
    AdaError(.badFormat, path: at, "the payload ends before the \(what)")
  }
}

/// Little-endian reads from a byte slice (bounds are checked by the caller).
struct ByteReader {
  let bytes: ArraySlice<UInt8>
  var offset: Int

  func remaining(to end: Int) -> Int { end - offset }

  mutating func u8() -> UInt8 {
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
  mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
  mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
}

extension Array where Element == UInt8 {
  mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
    var x = v.littleEndian
    Swift.withUnsafeBytes(of: &x) { append(contentsOf: $0) }
  }
}
