import AdaTensor

/// Conv2D as im2col + GEMM over blocks of a few images, for batches large enough to give every
/// worker several blocks.
///
/// Unfolding the whole batch at once writes a columns matrix nine times the input (14 MB for
/// the second convolution of the Fashion-MNIST CNN at batch 64), which is then read back by the
/// GEMM, kept for the kernel gradient, and mirrored by an equally large column gradient that
/// OpenBLAS first zeroes, then writes, then col2im reads. Here each worker unfolds
/// `imagesPerBlock` images (about `columnsBlockBytes` of columns, which stay in cache) into its
/// own scratch buffer and multiplies them straight away; backward unfolds the block again
/// (cheaper than keeping it) for the kernel gradient and folds the block's column gradient back
/// into its images while it is still in cache.
///
/// Legend: `N` batch, `P = OH·OW` output pixels per image, `K = kh·kw·C`, `F` filters.
/// Kernel gradients are summed per worker (over its contiguous blocks) and the per-worker sums
/// added in worker order: the result depends on the worker count, never on timing.
enum Conv2DBlocks {
  /// Target size of one block of columns. Task-local so tests can force many tiny blocks.
  @TaskLocal static var columnsBlockBytes = 1 << 20

  /// Images per block for `P` output pixels per image and rows of `K`.
  static func imagesPerBlock(pixels p: Int, k: Int) -> Int {
    max(1, columnsBlockBytes / max(1, p * k * MemoryLayout<Float>.size))
  }

  /// Whether to go block by block: only when the batch's columns come to at least four blocks
  /// and the batch has at least two blocks of images. Keeping a small columns matrix is cheaper
  /// than rebuilding it in backward (e.g. a first convolution over a 1-channel image), and a
  /// batch of one or two images gains more from splitting one large GEMM's rows.
  static func applies(batch n: Int, pixels p: Int, k: Int) -> Bool {
    n * p * k * MemoryLayout<Float>.size >= 4 * columnsBlockBytes
      && n >= 2 * imagesPerBlock(pixels: p, k: k)
  }

  /// Workers the blocks are spread over.
  static func workers(batch n: Int, pixels p: Int, k: Int) -> Int {
    let blocks = (n + imagesPerBlock(pixels: p, k: k) - 1) / imagesPerBlock(pixels: p, k: k)
    return Parallel.chunkCount(for: blocks, work: n * p * k)
  }

  /// `y[N·P, F] = im2col(x) · w`, with `x` `[N, H, W, C]` and `w` `[K, F]`.
  static func forward(
    _ x: UnsafePointer<Float>, batch n: Int, channels c: Int, geometry g: ConvGeometry,
    kernel w: UnsafePointer<Float>, filters f: Int, into y: UnsafeMutablePointer<Float>
  ) {
    let (p, k) = (g.outputArea, g.kernelArea * c)
    forEachBlock(batch: n, pixels: p, k: k) { images, columns in
      Im2col.im2col(
        x + images.lowerBound * g.inputArea * c, batch: images.count, channels: c, geometry: g,
        columns: columns)
      Gemm.sgemm(
        m: images.count * p, n: f, k: k, a: columns, b: w,
        c: y + images.lowerBound * p * f)
    }
  }

  /// `kernelGradient[K, F] += Σ im2col(x)ᵀ · dz`, and, when `dx` is given,
  /// `dx[N, H, W, C] = col2im(dz · wᵀ)` (overwritten).
  static func backward(
    _ x: UnsafePointer<Float>, gradient dz: UnsafePointer<Float>, batch n: Int, channels c: Int,
    geometry g: ConvGeometry, kernel w: UnsafePointer<Float>, filters f: Int,
    kernelGradient dw: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?
  ) {
    let (p, k) = (g.outputArea, g.kernelArea * c)
    let chunks = workers(batch: n, pixels: p, k: k)
    // One kernel-gradient sum per worker, added into `dw` in worker order afterwards.
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * k * f)
    defer { partial.deallocate() }
    let started = UnsafeMutablePointer<Bool>.allocate(capacity: chunks)
    started.initialize(repeating: false, count: chunks)
    defer { started.deallocate() }
    let gradientColumns = dx == nil ? 0 : imagesPerBlock(pixels: p, k: k) * p * k
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, chunks * gradientColumns))
    defer { scratch.deallocate() }

    forEachBlock(batch: n, pixels: p, k: k) { worker, images, columns in
      let rows = images.count * p
      let dzBlock = dz + images.lowerBound * p * f
      Im2col.im2col(
        x + images.lowerBound * g.inputArea * c, batch: images.count, channels: c, geometry: g,
        columns: columns)
      Gemm.sgemm(
        transA: true, m: k, n: f, k: rows, a: columns, b: dzBlock,
        beta: started[worker] ? 1 : 0, c: partial + worker * k * f)
      started[worker] = true
      guard let dx else { return }
      let dColumns = scratch + worker * gradientColumns
      Gemm.sgemm(transB: true, m: rows, n: k, k: f, a: dzBlock, b: w, c: dColumns)
      let image = dx + images.lowerBound * g.inputArea * c
      image.update(repeating: 0, count: images.count * g.inputArea * c)
      Im2col.col2im(dColumns, batch: images.count, channels: c, geometry: g, accumulatingInto: image)
    }
    for worker in 0..<chunks where started[worker] {
      let sum = partial + worker * k * f
      for t in 0..<(k * f) { dw[t] += sum[t] }
    }
  }

  /// Calls `body(worker, images, columns)` for consecutive blocks of images, the blocks split
  /// into contiguous runs, one run per worker, each worker with its own columns buffer.
  /// With several workers OpenBLAS stays on the calling thread; the kernels inside never split
  /// further.
  private static func forEachBlock(
    batch n: Int, pixels p: Int, k: Int,
    _ body: (_ worker: Int, _ images: Range<Int>, _ columns: UnsafeMutablePointer<Float>) -> Void
  ) {
    let perBlock = imagesPerBlock(pixels: p, k: k)
    let blocks = (n + perBlock - 1) / perBlock
    let chunks = workers(batch: n, pixels: p, k: k)
    let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunks * perBlock * p * k)
    defer { columns.deallocate() }
    func run() {
      Parallel.forEachChunk(of: blocks, chunks: chunks) { worker, range in
        Parallel.$workers.withValue(1) {
          for block in range {
            let images = (block * perBlock)..<min((block + 1) * perBlock, n)
            body(worker, images, columns + worker * perBlock * p * k)
          }
        }
      }
    }
    if chunks > 1 { BLAS.withSingleThread { run() } } else { run() }
  }

  private static func forEachBlock(
    batch n: Int, pixels p: Int, k: Int,
    _ body: (_ images: Range<Int>, _ columns: UnsafeMutablePointer<Float>) -> Void
  ) {
    forEachBlock(batch: n, pixels: p, k: k) { _, images, columns in body(images, columns) }
  }
}
