import AdaTensor

/// The matrix core of Dense, Conv2D (on im2col columns, or on the image itself for 1×1 stride-1
/// convolutions) and SeparableConv2D's pointwise step: `z[M, F] = x[M, K] · w[K, F]` on OpenBLAS,
/// and the two products of its backward.
///
/// `x` may have any shape whose element count is `M·K` (an NHWC image is `[N·H·W, C]` rows as is);
/// `w` any shape with `K·F` elements (a `[kh, kw, C, F]` kernel is `[kh·kw·C, F]`).
///
/// Large products are split across the workers along their longest axis (`Gemm.parallelSgemm`:
/// the rows for a convolution's forward and input gradient, the summed rows for its kernel
/// gradient).
enum LinearKernels {
  /// `x[M, K] · w[K, F]`, returned with shape `outputShape` (`M·F` elements).
  static func forward(_ x: Tensor, kernel w: Tensor, inFeatures k: Int, outputShape: [Int]) -> Tensor {
    let (m, f) = dims(x, w, k)
    precondition(outputShape.elementCount == m * f, "linear: output shape \(outputShape) ≠ [\(m), \(f)]")
    let scalars = [Float](unsafeUninitializedCapacity: m * f) { z, initialized in
      initialized = m * f
      guard m * f > 0 else { return }
      x.scalars.withUnsafeBufferPointer { xp in
        w.scalars.withUnsafeBufferPointer { wp in
          Gemm.parallelSgemm(
            m: m, n: f, k: k, a: xp.baseAddress!, b: wp.baseAddress!, c: z.baseAddress!)
        }
      }
    }
    return Tensor(shape: outputShape, scalars: scalars)
  }

  /// `kernelGradient[K, F] += xᵀ · dz`, with `dz` `[M, F]`.
  static func accumulateKernelGradient(
    input x: Tensor, gradient dz: Tensor, inFeatures k: Int, into kernelGradient: inout Tensor
  ) {
    let (m, f) = dims(x, kernelGradient, k)
    precondition(dz.count == m * f, "linear backward: dz \(dz.shape) is not [\(m), \(f)]")
    guard m > 0, k > 0, f > 0 else { return }
    x.scalars.withUnsafeBufferPointer { xp in
      dz.scalars.withUnsafeBufferPointer { gp in
        kernelGradient.scalars.withUnsafeMutableBufferPointer { dw in
          Gemm.parallelSgemm(
            transA: true, m: k, n: f, k: m, a: xp.baseAddress!, b: gp.baseAddress!, beta: 1,
            c: dw.baseAddress!)
        }
      }
    }
  }

  /// `dx[M, K] = dz · wᵀ`, returned with shape `inputShape`.
  static func inputGradient(_ dz: Tensor, kernel w: Tensor, inFeatures k: Int, inputShape: [Int])
    -> Tensor
  {
    let (m, f) = dims(dz, w, k, byColumns: true)
    precondition(inputShape.elementCount == m * k, "linear backward: input shape \(inputShape)")
    let scalars = [Float](unsafeUninitializedCapacity: m * k) { dx, initialized in
      initialized = m * k
      guard m * k > 0 else { return }
      dz.scalars.withUnsafeBufferPointer { gp in
        w.scalars.withUnsafeBufferPointer { wp in
          Gemm.parallelSgemm(
            transB: true, m: m, n: k, k: f, a: gp.baseAddress!, b: wp.baseAddress!,
            c: dx.baseAddress!)
        }
      }
    }
    return Tensor(shape: inputShape, scalars: scalars)
  }

  /// (M, F) for `x` with `M·K` elements and `w` with `K·F` (or, `byColumns`, for `dz` with
  /// `M·F` elements).
  private static func dims(_ x: Tensor, _ w: Tensor, _ k: Int, byColumns: Bool = false) -> (Int, Int) {
    precondition(k > 0 && w.count % k == 0 && w.count > 0, "linear: kernel \(w.shape) with K = \(k)")
    let f = w.count / k
    let rowLength = byColumns ? f : k
    precondition(x.count % rowLength == 0, "linear: \(x.shape) is not rows of \(rowLength)")
    return (x.count / rowLength, f)
  }
}
