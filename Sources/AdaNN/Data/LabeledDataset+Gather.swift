import AdaTensor

extension LabeledDataset {
  /// Writes the prepared examples at `indices` (in that order) into `output`,
  /// `indices.count · exampleShape.elementCount` Float32 values. Streamed data is read here (the
  /// rows of a batch in ascending order, one HDF5 read), so this throws for read errors.
  public func gather(_ indices: some Collection<Int>, into output: UnsafeMutableBufferPointer<Float>)
    throws(AdaError)
  {
    let outer = exampleShape.elementCount
    precondition(output.count >= indices.count * outer, "LabeledDataset.gather: output too small")
    var converter = ExampleConverter(self)
    switch storage {
    case .bytes(let values):
      values.withUnsafeBytes { src in
        for (row, i) in indices.enumerated() {
          precondition(i >= 0 && i < count, "LabeledDataset: example \(i) out of 0..<\(count)")
          converter.convert(
            src.baseAddress! + i * converter.storedBytes, into: output.baseAddress! + row * outer)
        }
      }
    case .floats(let values):
      values.withUnsafeBytes { src in
        for (row, i) in indices.enumerated() {
          precondition(i >= 0 && i < count, "LabeledDataset: example \(i) out of 0..<\(count)")
          converter.convert(
            src.baseAddress! + i * converter.storedBytes, into: output.baseAddress! + row * outer)
        }
      }
    case .streamed(let reader, let rows):
      let wanted = indices.map { i in
        precondition(i >= 0 && i < count, "LabeledDataset: example \(i) out of 0..<\(count)")
        return rows?[i] ?? i
      }
      let sorted = Array(Set(wanted)).sorted()
      var slot: [Int: Int] = [:]
      for (k, r) in sorted.enumerated() { slot[r] = k }
      let raw = UnsafeMutableRawBufferPointer.allocate(
        byteCount: max(1, sorted.count * converter.storedBytes), alignment: 16)
      defer { raw.deallocate() }
      try reader.read(rows: sorted, into: raw)
      for (row, r) in wanted.enumerated() {
        converter.convert(
          UnsafeRawPointer(raw.baseAddress!) + slot[r]! * converter.storedBytes,
          into: output.baseAddress! + row * outer)
      }
    }
  }

  /// The prepared examples at `indices` as one tensor `[indices.count] + exampleShape`.
  public func examples(at indices: [Int]) throws(AdaError) -> Tensor {
    var t = Tensor(shape: [indices.count] + exampleShape)
    try t.scalars.withUnsafeMutableBufferPointer { (p) throws(AdaError) in try gather(indices, into: p) }
    return t
  }

  /// Every example, prepared, `[N] + exampleShape` Float32 — for small in-memory datasets
  /// (tests, calibration sets); training and evaluation draw batches instead. Streamed data
  /// must use `examples(at:)`, which can report read errors.
  public var images: Tensor {
    precondition(!isStreamed, "LabeledDataset.images: \(name) is streamed; use examples(at:)")
    do {
      return try examples(at: Array(0..<count))
    } catch {
      preconditionFailure("LabeledDataset.images: in-memory gather failed: \(error)")
    }
  }
}

/// Turns one stored example (uint8 or Float32 values) into its prepared Float32 values, with
/// reusable scratch space. uint8 without resizing goes through a 256-entry table per channel,
/// whose entries are `PreprocessMode.apply` of each byte (so both paths give the same bits).
struct ExampleConverter {
  let element: ExampleElement
  let pixels: Bool
  let preparation: ExamplePreparation
  /// Stored height, width (1, 1 for feature vectors), channels (the last axis).
  let h: Int
  let w: Int
  let c: Int
  /// Prepared channels.
  let outChannels: Int
  let storedCount: Int
  let storedBytes: Int
  let plan: ResizePlan?
  let table: [Float]
  var source: [Float]
  var rowsScratch: [Float]
  var resized: [Float]

  init(_ d: LabeledDataset) {
    element = d.storage.holdsPixels ? .uint8 : .float32
    pixels = d.storage.holdsPixels
    preparation = d.preparation
    let s = d.storedShape
    c = s.last ?? 1
    h = s.count == 3 ? s[0] : 1
    w = s.count == 3 ? s[1] : max(1, s.elementCount / max(c, 1))
    storedCount = s.elementCount
    storedBytes = storedCount * element.byteCount
    outChannels = d.preparation.channels ?? c
    let (h, w, c) = (h, w, c)
    let plan = d.preparation.resize.map { $0.plan(height: h, width: w) }
    self.plan = plan
    table = pixels && plan == nil ? d.preparation.preprocess.byteTable(channels: outChannels) : []
    source = plan == nil ? [] : [Float](repeating: 0, count: storedCount)
    rowsScratch = plan.map { [Float](repeating: 0, count: $0.height * w * c) } ?? []
    resized = plan.map { [Float](repeating: 0, count: $0.height * $0.width * c) } ?? []
  }

  /// Input channel feeding output channel `k`: the only one for grey → RGB, the mirrored one
  /// for caffe's RGB → BGR.
  @inline(__always)
  func inputChannel(_ k: Int) -> Int {
    if c == 1 { return 0 }
    return pixels && preparation.preprocess == .caffe ? c - 1 - k : k
  }

  mutating func convert(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>) {
    let mode = preparation.preprocess
    let perChannel = mode.needsThreeChannels
    if plan == nil {
      let pixelsCount = storedCount / c
      if pixels {
        let bytes = src.assumingMemoryBound(to: UInt8.self)
        table.withUnsafeBufferPointer { t in
          if c == outChannels && !perChannel {
            for i in 0..<storedCount { dst[i] = t[Int(bytes[i])] }
            return
          }
          for p in 0..<pixelsCount {
            for k in 0..<outChannels {
              dst[p * outChannels + k] = t[(perChannel ? k : 0) * 256 + Int(bytes[p * c + inputChannel(k)])]
            }
          }
        }
      } else {
        let floats = src.assumingMemoryBound(to: Float.self)
        if c == outChannels {
          dst.update(from: floats, count: storedCount)
          return
        }
        for p in 0..<pixelsCount {
          for k in 0..<outChannels { dst[p * outChannels + k] = floats[p * c + inputChannel(k)] }
        }
      }
      return
    }
    let plan = plan!
    source.withUnsafeMutableBufferPointer { s in
      if pixels {
        let bytes = src.assumingMemoryBound(to: UInt8.self)
        for i in 0..<storedCount { s[i] = Float(bytes[i]) }
      } else {
        s.baseAddress!.update(from: src.assumingMemoryBound(to: Float.self), count: storedCount)
      }
    }
    let (sourceValues, outC) = (source, outChannels)
    sourceValues.withUnsafeBufferPointer { s in
      rowsScratch.withUnsafeMutableBufferPointer { scratch in
        resized.withUnsafeMutableBufferPointer { r in plan.apply(s, channels: c, into: r, scratch: scratch) }
      }
    }
    let count = plan.height * plan.width
    resized.withUnsafeBufferPointer { r in
      for p in 0..<count {
        for k in 0..<outC {
          let v = r[p * c + inputChannel(k)]
          dst[p * outC + k] = pixels ? mode.apply(v, channel: perChannel ? k : 0) : v
        }
      }
    }
  }
}
