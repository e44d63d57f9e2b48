import AdaNN
import AdaTensor
import XCTest

/// The arithmetic of each `PreprocessMode` (Keras agreement: AdaIOTests/KerasPreprocessingTests).
final class PreprocessModeTests: XCTestCase {
  func testUnitIsDivisionBy255ToTheBit() {
    // The value Fashion-MNIST images always had (Float(b) / 255), so results stay bit-identical.
    for b in 0..<256 { XCTAssertEqual(PreprocessMode.unit.apply(Float(b), channel: 0), Float(b) / 255) }
  }

  func testByteTableHoldsTheModeOfEveryByte() {
    for mode in PreprocessMode.allCases {
      let table = mode.byteTable(channels: 3)
      for k in 0..<3 {
        for b in [0, 1, 127, 128, 254, 255] {
          XCTAssertEqual(table[k * 256 + b], mode.apply(Float(b), channel: mode.needsThreeChannels ? k : 0))
        }
      }
    }
  }

  func testRangesOfTheScalingModes() {
    XCTAssertEqual(PreprocessMode.tf.apply(0, channel: 0), -1)
    XCTAssertEqual(PreprocessMode.tf.apply(255, channel: 0), 1)
    XCTAssertEqual(PreprocessMode.raw.apply(200, channel: 2), 200)
    XCTAssertEqual(PreprocessMode.torch.apply(255 * 0.485, channel: 0), 0, accuracy: 1e-6)
  }

  func testCaffeSwapsRedAndBlueThenSubtractsBGRMeans() {
    var rgb: [Float] = [10, 20, 30]
    rgb.withUnsafeMutableBufferPointer { PreprocessMode.caffe.apply($0, channels: 3) }
    XCTAssertEqual(rgb, [30 - 103.939, 20 - 116.779, 10 - 123.68])
  }
}
