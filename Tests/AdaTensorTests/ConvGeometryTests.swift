import AdaTensor
import XCTest

/// Output sizes and pads against values worked by hand from the TensorFlow padding rules
/// (`same`: out = ceil(in / s), padTotal = max((out − 1)·s + (k − 1)·d + 1 − in, 0), the smaller
/// half before), and the valid-tap ranges against brute force.
final class ConvGeometryTests: XCTestCase {
  private func geometry(_ input: Int, k: Int, s: Int = 1, d: Int = 1, same: Bool) -> ConvGeometry {
    ConvGeometry(
      inputHeight: input, inputWidth: input, kernelHeight: k, kernelWidth: k, strideHeight: s,
      strideWidth: s, dilationHeight: d, dilationWidth: d, same: same)
  }

  func testSamePaddingMatchesTensorFlowWorkedExamples() {
    // (input, kernel, stride, dilation) → (output, padBefore, padAfter)
    let cases: [((Int, Int, Int, Int), (Int, Int, Int))] = [
      ((28, 3, 2, 1), (14, 0, 1)),  // 13·2 + 3 − 28 = 1: all of it after
      ((5, 3, 1, 1), (5, 1, 1)),
      ((6, 2, 1, 1), (6, 0, 1)),  // even kernel: the extra row goes after
      ((224, 3, 2, 1), (112, 0, 1)),
      ((7, 3, 1, 2), (7, 2, 2)),  // dilated 3×3 covers 5 pixels
      ((5, 5, 1, 1), (5, 2, 2)),
      ((7, 1, 2, 1), (4, 0, 0)),
      ((8, 3, 2, 1), (4, 0, 1)),
      ((3, 7, 1, 1), (3, 3, 3)),  // kernel larger than the input
    ]
    for ((input, k, s, d), (out, before, after)) in cases {
      let g = geometry(input, k: k, s: s, d: d, same: true)
      XCTAssertEqual(g.outputHeight, out, "\(g)")
      XCTAssertEqual(g.outputWidth, out, "\(g)")
      XCTAssertEqual([g.padTop, g.padBottom, g.padLeft, g.padRight], [before, after, before, after], "\(g)")
    }
  }

  func testValidPaddingMatchesTensorFlowWorkedExamples() {
    let cases: [((Int, Int, Int, Int), Int)] = [
      ((28, 3, 1, 1), 26), ((28, 3, 2, 1), 13), ((7, 3, 1, 2), 3), ((7, 3, 2, 2), 2),
      ((5, 5, 1, 1), 1), ((4, 5, 1, 1), 0), ((6, 2, 2, 1), 3),
    ]
    for ((input, k, s, d), out) in cases {
      let g = geometry(input, k: k, s: s, d: d, same: false)
      XCTAssertEqual(g.outputHeight, out, "\(g)")
      XCTAssertEqual([g.padTop, g.padBottom, g.padLeft, g.padRight], [0, 0, 0, 0])
      XCTAssertEqual(g.hasOutput, out > 0)
    }
  }

  func testHeightAndWidthAreIndependent() {
    let g = ConvGeometry(
      inputHeight: 9, inputWidth: 6, kernelHeight: 3, kernelWidth: 2, strideHeight: 2,
      strideWidth: 1, dilationHeight: 1, dilationWidth: 3, same: true)
    XCTAssertEqual([g.outputHeight, g.outputWidth], [5, 6])
    XCTAssertEqual([g.padTop, g.padBottom], [1, 1])  // 4·2 + 3 − 9 = 2
    XCTAssertEqual([g.padLeft, g.padRight], [1, 2])  // 5·1 + 4 − 6 = 3
  }

  func testOnlyUnpaddedStrideOne1x1IsPointwise() {
    XCTAssertTrue(geometry(5, k: 1, same: false).isPointwise)
    XCTAssertTrue(geometry(5, k: 1, same: true).isPointwise)
    XCTAssertFalse(geometry(5, k: 1, s: 2, same: true).isPointwise)
    XCTAssertFalse(geometry(5, k: 3, same: true).isPointwise)
  }

  func testValidTapsMatchBruteForce() {
    for input in 1...7 {
      for k in 1...4 {
        for s in 1...3 {
          for d in 1...3 {
            for same in [false, true] {
              let g = geometry(input, k: k, s: s, d: d, same: same)
              for o in 0..<g.outputHeight {
                let expected = (0..<k).filter { t in
                  let i = o * s - g.padTop + t * d
                  return i >= 0 && i < input
                }
                let rows = g.validKernelRows(forOutputRow: o)
                XCTAssertEqual(Array(rows), expected, "\(g) output \(o)")
                XCTAssertEqual(Array(g.validKernelColumns(forOutputColumn: o)), expected, "\(g)")
              }
            }
          }
        }
      }
    }
  }

  func testSameOutputIsCeilOfInputOverStrideForEverySmallCase() {
    for input in 1...12 {
      for k in 1...5 {
        for s in 1...3 {
          for d in 1...2 {
            let g = geometry(input, k: k, s: s, d: d, same: true)
            XCTAssertEqual(g.outputHeight, (input + s - 1) / s)
            let total = g.padTop + g.padBottom
            XCTAssertEqual(total, max((g.outputHeight - 1) * s + (k - 1) * d + 1 - input, 0))
            XCTAssertTrue(g.padBottom == g.padTop || g.padBottom == g.padTop + 1)
          }
        }
      }
    }
  }
}
