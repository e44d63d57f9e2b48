import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaIO

/// Dataset preparation against real Keras 3.15 (JAX): `Tests/Fixtures/data/preprocess.h5`, made
/// by tools/reference/make_data_fixtures.py (seeded uint8 images; expected values from
///
///     keras.ops.image.resize(x.astype("float32"), size, interpolation="bilinear", antialias=False)
///     keras.ops.image.resize(x.astype("float32"), size, interpolation="nearest")
///     keras.ops.image.pad_images(x, (H' - H) // 2, (W' - W) // 2, target_height=H', target_width=W')
///     keras.applications.imagenet_utils.preprocess_input(x.astype("float32"), mode=…)
///
/// ). Resizing is checked at rtol 1e-5 of the 0–255 scale (JAX sums the taps as a matrix
/// product); nearest, pad and the preprocess modes must agree to the bit.
final class KerasPreprocessingTests: XCTestCase {
  static let file = Fixtures.path("data/preprocess.h5")

  /// The fixture's uint8 images at `group/x` as a dataset of pixels.
  func pixels(_ group: String) throws -> LabeledDataset {
    let d = try HDF5File.open(Self.file).root.dataset("\(group)/x")
    let (shape, values) = try d.read(UInt8.self)
    return LabeledDataset(
      name: group, pixels: values, exampleShape: Array(shape.dropFirst()),
      labels: [Int32](repeating: 0, count: shape[0]), classCount: 1)
  }

  func expected(_ path: String) throws -> Tensor {
    try HDF5File.open(Self.file).root.dataset(path).readTensor()
  }

  func testResizeMatchesKerasForEveryMethodAndCase() throws {
    let root = try HDF5File.open(Self.file).root
    let cases = try root.group("resize").children()
    XCTAssertEqual(cases.count, 4)
    for name in cases {
      let size = try root.group("resize/\(name)").readNumbers(attribute: "size").map { Int($0) }
      let data = try pixels("resize/\(name)")
      for method in ImageResize.Method.allCases where root.contains("resize/\(name)/\(method.rawValue)") {
        let prepared = try data.preparing(
          ExamplePreparation(
            resize: ImageResize(height: size[0], width: size[1], method: method), preprocess: .raw))
        let ours = try prepared.examples(at: Array(0..<data.count))
        let keras = try expected("resize/\(name)/\(method.rawValue)")
        if method == .bilinear {
          assertClose(ours, keras, rtol: 1e-5, "\(name) \(method)")
        } else {
          XCTAssertEqual(ours, keras, "\(name) \(method): copies and zeros only, so exact")
        }
      }
    }
  }

  func testPreprocessModesMatchKerasPreprocessInputToTheBit() throws {
    let data = try pixels("preprocess")
    for mode in [PreprocessMode.tf, .torch, .caffe] {
      let ours = try data.preparing(ExamplePreparation(preprocess: mode)).examples(at: [0, 1])
      let keras = try expected("preprocess/\(mode.rawValue)")
      XCTAssertEqual(ours.shape, keras.shape)
      let worst = zip(ours.scalars, keras.scalars).enumerated().first { $0.element.0 != $0.element.1 }
      XCTAssertNil(worst, "\(mode): first difference at \(worst.map { "\($0.offset): \($0.element)" } ?? "")")
    }
  }

  func testResizeThenPreprocessIsKerasResizeThenPreprocessInput() throws {
    // What a Keras user feeds MobileNetV2 from Fashion-MNIST: resize 28→32, grey → RGB, tf mode.
    let data = try pixels("resize/fmnist_to_32")
    let ours = try data.preparing(
      ExamplePreparation(resize: ImageResize(height: 32, width: 32), channels: 3, preprocess: .tf)
    ).examples(at: [0])
    let resized = try expected("resize/fmnist_to_32/bilinear")
    XCTAssertEqual(ours.shape, [1, 32, 32, 3])
    for p in 0..<(32 * 32) {
      for k in 0..<3 {
        let want = resized.scalars[p] / 127.5 - 1
        XCTAssertEqual(ours.scalars[p * 3 + k], want, accuracy: 2e-5 * 2, "pixel \(p) channel \(k)")
      }
    }
  }
}
