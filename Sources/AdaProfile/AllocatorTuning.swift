#if canImport(Glibc)
  import Glibc
#endif

/// Keeps glibc's allocator from returning freed activation memory to the kernel after every
/// layer, which made batch-1 inference page-fault its way through fresh pages on each call.
///
/// Measured here (docs/profiler.md): with glibc's defaults, a model whose activations are all
/// under 128 KiB (the initial mmap threshold) shrinks the heap (`M_TRIM_THRESHOLD`, 128 KiB)
/// whenever a freed activation merges into the top chunk, and the next layer's output faults
/// its pages back in — `Executor.predict` of a hand-written Fashion-MNIST variant took 0.177 ms
/// instead of 0.112 ms. Timing a layer alone never sees this (it reuses one hot chunk), so the
/// sum of per-layer times under-predicted such models by 20–37 %. Models with a buffer above
/// 128 KiB escaped it by accident (glibc then raises both thresholds dynamically).
///
/// `apply()` fixes both thresholds once per process: buffers up to 32 MiB come from the heap,
/// and up to 256 MiB of freed heap is kept for reuse. The profiler applies it before timing;
/// anything that runs models for latency (the runtime, `predict`) should apply it too so that
/// measured and deployed latency agree. No effect on other C libraries.
public enum AllocatorTuning {
  /// Largest allocation served from the heap rather than its own mmap (glibc's maximum).
  public static let mmapThresholdBytes = 32 << 20
  /// Free memory at the top of the heap kept instead of returned to the kernel.
  public static let trimThresholdBytes = 256 << 20

  /// Applies the thresholds (idempotent). Returns whether the C library accepted them.
  @discardableResult
  public static func apply() -> Bool { applied }

  private static let applied: Bool = {
    #if canImport(Glibc)
      // mallopt lives in <malloc.h>, which Swift's Glibc module does not import: look it up.
      // Parameter numbers from glibc's malloc.h.
      let mTrimThreshold: Int32 = -1
      let mMmapThreshold: Int32 = -3
      guard let symbol = dlsym(nil, "mallopt") else { return false }
      typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
      let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
      let a = mallopt(mMmapThreshold, Int32(mmapThresholdBytes))
      let b = mallopt(mTrimThreshold, Int32(trimThresholdBytes))
      return a == 1 && b == 1
    #else
      return false
    #endif
  }()
}
