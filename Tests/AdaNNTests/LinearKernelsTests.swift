import AdaTensor
import TestSupport
import XCTest

@testable import AdaNN

/// The three GEMMs of Dense/Conv/pointwise against `Gemm.reference`.
final class LinearKernelsTests: XCTestCase {
  let (m, k, f) = (6, 5, 4)

  func testForwardIsXTimesW() {
    let x = randomTensor([2, 3, k], seed: 1)
    let w = randomTensor([1, 1, k, f], seed: 2)
    var expected = [Float](repeating: 0, count: m * f)
    Gemm.reference(m: m, n: f, k: k, a: x.scalars, b: w.scalars, c: &expected)
    let y = LinearKernels.forward(x, kernel: w, inFeatures: k, outputShape: [2, 3, f])
    XCTAssertEqual(y.shape, [2, 3, f])
    assertClose(y.scalars, expected, rtol: 1e-5)
  }

  func testKernelGradientAddsXTransposeTimesDz() {
    let x = randomTensor([m, k], seed: 3)
    let dz = randomTensor([m, f], seed: 4)
    var expected = randomTensor([k, f], seed: 5).scalars
    var dw = Tensor(shape: [k, f], scalars: expected)
    Gemm.reference(transA: true, m: k, n: f, k: m, a: x.scalars, b: dz.scalars, beta: 1, c: &expected)
    LinearKernels.accumulateKernelGradient(input: x, gradient: dz, inFeatures: k, into: &dw)
    assertClose(dw.scalars, expected, rtol: 1e-5)
  }

  func testInputGradientIsDzTimesWTranspose() {
    let dz = randomTensor([m, f], seed: 6)
    let w = randomTensor([k, f], seed: 7)
    var expected = [Float](repeating: 0, count: m * k)
    Gemm.reference(transB: true, m: m, n: k, k: f, a: dz.scalars, b: w.scalars, c: &expected)
    let dx = LinearKernels.inputGradient(dz, kernel: w, inFeatures: k, inputShape: [3, 2, k])
    XCTAssertEqual(dx.shape, [3, 2, k])
    assertClose(dx.scalars, expected, rtol: 1e-5)
  }

  func testEmptyBatchGivesEmptyResults() {
    let w = randomTensor([k, f], seed: 8)
    XCTAssertEqual(
      LinearKernels.forward(Tensor(shape: [0, k]), kernel: w, inFeatures: k, outputShape: [0, f]).shape,
      [0, f])
    var dw = Tensor(shape: [k, f])
    LinearKernels.accumulateKernelGradient(
      input: Tensor(shape: [0, k]), gradient: Tensor(shape: [0, f]), inFeatures: k, into: &dw)
    XCTAssertEqual(dw, Tensor(shape: [k, f]))
  }
}
