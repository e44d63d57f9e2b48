import XCTest

@testable import AdaIO

final class KerasWeightSourcesTests: XCTestCase {
  func testSnakeCaseMatchesKerasNaming() {
    let cases = [
      "Conv2D": "conv2d", "BatchNormalization": "batch_normalization", "ReLU": "re_lu",
      "DepthwiseConv2D": "depthwise_conv2d", "GlobalAveragePooling2D": "global_average_pooling2d",
      "InputLayer": "input_layer", "ZeroPadding2D": "zero_padding2d", "Dense": "dense",
      "SeparableConv2D": "separable_conv2d", "MaxPooling2D": "max_pooling2d",
    ]
    for (cls, snake) in cases { XCTAssertEqual(kerasSnakeCase(cls), snake, cls) }
  }

  func testStoredNamesLoseModelPrefixAndColonIndex() {
    XCTAssertEqual(KerasWeightNames.baseName("sequential/dense_1/kernel"), "kernel")
    XCTAssertEqual(KerasWeightNames.baseName("bn/moving_mean:0"), "moving_mean")
    XCTAssertEqual(KerasWeightNames.baseName("bias"), "bias")
    XCTAssertEqual(KerasWeightNames.baseName("odd:name"), "odd:name")
  }

  func testMultiIndexOfAFlatOffset() {
    XCTAssertEqual(KerasWeightMapping.multiIndex(7, shape: [1, 1, 5, 5]), [0, 0, 1, 2])
    XCTAssertEqual(KerasWeightMapping.multiIndex(0, shape: [3]), [0])
  }
}
