#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide allocator settings for the hot loops.
///
/// Training allocates the same large activation, im2col and gradient buffers (1–15 MB for a
/// small CNN at batch 64) on every step. glibc serves blocks above `M_MMAP_THRESHOLD` (128 KB
/// at start, adapting upwards only when such a block is freed) with a fresh `mmap`, which the
/// kernel zero-fills page by page on first touch and unmaps again on `free`; the page faults
/// cost about as much system time as the arithmetic. Raising the threshold keeps those blocks
/// in the heap, and raising the trim threshold stops `free` from handing the top of the heap
/// back to the kernel, so the next step reuses warm memory.
///
/// Batch-1 inference needs it too (docs/profiler.md): with glibc's defaults, a model whose
/// activations all stay under 128 KB shrinks the heap whenever a freed activation merges into
/// the top chunk, and the next layer faults its pages back in (0.177 ms instead of 0.112 ms for a
/// small Fashion-MNIST variant), so measured and per-layer-predicted latency disagree by 20–37%.
///
/// Call once at process start (the CLI and the benchmarks do). Elsewhere it is a no-op.
///
///     Memory.configureAllocator()
public enum Memory {
  /// Largest block served from the heap (glibc caps `M_MMAP_THRESHOLD` at 32 MB on 64-bit).
  public static let heapBlockLimit = 32 << 20
  /// Free memory at the top of the heap kept for reuse before trimming.
  public static let trimThreshold = 1 << 30

  /// Raises glibc's mmap and trim thresholds (see the type's doc). Returns false when the
  /// allocator refused (or is not glibc's).
  @discardableResult
  public static func configureAllocator() -> Bool {
    #if canImport(Glibc)
      // <malloc.h> is not part of the Glibc module: look `mallopt` up in the C library.
      // Parameter numbers from <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
      typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
      guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else {
        return false
      }
      let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
      let mmapOK = mallopt(-3, Int32(heapBlockLimit)) == 1
      let trimOK = mallopt(-1, Int32(trimThreshold)) == 1
      return mmapOK && trimOK
    #else
      return false
    #endif
  }

  /// Hands free heap memory back to the kernel (glibc's `malloc_trim(0)`, which also releases
  /// whole free pages inside the heap). With `configureAllocator`'s trim threshold, memory freed
  /// by dropping a large object (a variant's weights) otherwise stays resident for reuse, and a
  /// memory budget would bound what the process uses, not what it holds. Costs a walk of the
  /// heap (about a millisecond per 100 MB); call it after dropping something large, not per step.
  /// Returns false where there is no `malloc_trim`.
  @discardableResult
  public static func returnFreeMemory() -> Bool {
    #if canImport(Glibc)
      typealias MallocTrim = @convention(c) (Int) -> Int32
      guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return false }
      _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
      return true
    #else
      return false
    #endif
  }
}
