import AdaNN
import AdaTensor
import XCTest

@testable import AdaIO

final class KerasLayerDecodingTests: XCTestCase {
  /// Decodes one layer from a JSON config snippet.
  func decode(_ className: String, _ config: String, keras: Int = 3) throws -> LayerSpec {
    let json = try JSONValue.parse(config, file: nil, path: nil)
    return try KerasLayerDecoding.spec(
      for: KerasLayerConfig(
        name: "layer1", className: className, config: json, file: "m.h5", kerasMajor: keras))
  }

  func assertError(
    _ kind: AdaError.Kind, _ className: String, _ config: String, keras: Int = 3, mentions: String,
    line: UInt = #line
  ) {
    XCTAssertThrowsError(try decode(className, config, keras: keras), line: line) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, kind, "\(e)", line: line)
      XCTAssertEqual(e.file, "m.h5", line: line)
      XCTAssertEqual(e.path, "layer1", line: line)
      XCTAssertTrue(e.message.contains(mentions), "\(e.message) should mention \(mentions)", line: line)
    }
  }

  func testConvolutionOptionsMapToSpecs() throws {
    XCTAssertEqual(
      try decode(
        "Conv2D",
        #"{"filters": 8, "kernel_size": [3, 2], "strides": [2, 1], "padding": "same", "dilation_rate": 1, "groups": 1, "activation": "relu", "use_bias": false, "data_format": "channels_last"}"#
      ),
      .conv2D(
        Conv2DSpec(
          filters: 8, kernel: Size2(3, 2), strides: Size2(2, 1), padding: .same, useBias: false,
          activation: .relu)))
    XCTAssertEqual(
      try decode("DepthwiseConv2D", #"{"kernel_size": 3, "depth_multiplier": 2, "dilation_rate": [2, 2]}"#),
      .depthwiseConv2D(DepthwiseConv2DSpec(kernel: .square(3), dilation: .square(2), depthMultiplier: 2)))
    XCTAssertEqual(
      try decode("SeparableConv2D", #"{"filters": 4, "kernel_size": [3, 3], "activation": "silu"}"#),
      .separableConv2D(SeparableConv2DSpec(filters: 4, kernel: .square(3), activation: .swish)))
  }

  func testEveryOtherClassMapsToItsSpec() throws {
    XCTAssertEqual(
      try decode("InputLayer", #"{"batch_shape": [null, 28, 28, 1]}"#), .input(InputSpec(shape: [28, 28, 1])))
    XCTAssertEqual(
      try decode("InputLayer", #"{"batch_input_shape": [null, 20]}"#, keras: 2),
      .input(InputSpec(shape: [20])))
    XCTAssertEqual(
      try decode("Dense", #"{"units": 10, "activation": "softmax"}"#),
      .dense(DenseSpec(units: 10, activation: .softmax)))
    XCTAssertEqual(
      try decode("BatchNormalization", #"{"axis": [3], "epsilon": 0.01, "momentum": 0.9, "center": false}"#),
      .batchNorm(BatchNormSpec(epsilon: 0.01, momentum: 0.9, center: false)))
    XCTAssertEqual(try decode("Activation", #"{"activation": "hard_silu"}"#), .activation(.hardSwish))
    XCTAssertEqual(
      try decode("ReLU", #"{"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}"#),
      .relu(ReLUSpec(maxValue: 6, negativeSlope: 0.1, threshold: 0.5)))
    XCTAssertEqual(try decode("ReLU", #"{"max_value": null}"#), .relu(ReLUSpec()))
    XCTAssertEqual(try decode("LeakyReLU", #"{"alpha": 0.2}"#, keras: 2), .relu(ReLUSpec(negativeSlope: 0.2)))
    XCTAssertEqual(try decode("Softmax", #"{"axis": -1}"#), .softmax(SoftmaxSpec()))
    XCTAssertEqual(
      try decode("MaxPooling2D", #"{"pool_size": [3, 3], "strides": null, "padding": "same"}"#),
      .pool2D(Pool2DSpec(kind: .max, pool: .square(3), strides: .square(3), padding: .same)))
    XCTAssertEqual(
      try decode("AveragePooling2D", #"{"pool_size": 2, "strides": [1, 1]}"#),
      .pool2D(Pool2DSpec(kind: .average, pool: .square(2), strides: .square(1))))
    XCTAssertEqual(
      try decode("GlobalMaxPooling2D", #"{"keepdims": true}"#),
      .globalPool2D(GlobalPool2DSpec(kind: .max, keepDims: true)))
    XCTAssertEqual(
      try decode("GlobalAveragePooling2D", "{}"), .globalPool2D(GlobalPool2DSpec(kind: .average)))
    XCTAssertEqual(try decode("Flatten", "{}"), .flatten)
    XCTAssertEqual(
      try decode("Reshape", #"{"target_shape": [-1, 4]}"#), .reshape(ReshapeSpec(targetShape: [-1, 4])))
    XCTAssertEqual(try decode("Dropout", #"{"rate": 0.25}"#), .dropout(DropoutSpec(rate: 0.25)))
    XCTAssertEqual(try decode("Add", "{}"), .add)
    XCTAssertEqual(try decode("Multiply", "{}"), .multiply)
    XCTAssertEqual(
      try decode("Rescaling", #"{"scale": 0.5, "offset": -1}"#),
      .rescaling(RescalingSpec(scale: 0.5, offset: -1)))
  }

  func testConcatenateAxisDropsTheBatchAxis() throws {
    XCTAssertEqual(try decode("Concatenate", #"{"axis": -1}"#), .concatenate(ConcatenateSpec(axis: -1)))
    XCTAssertEqual(try decode("Concatenate", #"{"axis": 1}"#), .concatenate(ConcatenateSpec(axis: 0)))
    XCTAssertEqual(try decode("Concatenate", #"{"axis": 3}"#), .concatenate(ConcatenateSpec(axis: 2)))
    assertError(.unsupported, "Concatenate", #"{"axis": 0}"#, mentions: "batch")
  }

  func testZeroPaddingAcceptsIntPairAndPairOfPairs() throws {
    XCTAssertEqual(
      try decode("ZeroPadding2D", #"{"padding": 2}"#),
      .zeroPadding2D(ZeroPadding2DSpec(top: 2, bottom: 2, left: 2, right: 2)))
    XCTAssertEqual(
      try decode("ZeroPadding2D", #"{"padding": [1, 3]}"#),
      .zeroPadding2D(ZeroPadding2DSpec(top: 1, bottom: 1, left: 3, right: 3)))
    XCTAssertEqual(
      try decode("ZeroPadding2D", #"{"padding": [[1, 0], [0, 2]]}"#),
      .zeroPadding2D(ZeroPadding2DSpec(top: 1, bottom: 0, left: 0, right: 2)))
    assertError(.invalidValue, "ZeroPadding2D", #"{"padding": [1, 2, 3]}"#, mentions: "padding")
  }

  func testActivationsAreReadAsStringsAndAsDicts() throws {
    let names: [String: Activation] = [
      "relu": .relu, "relu6": .relu6, "sigmoid": .sigmoid, "tanh": .tanh, "softmax": .softmax,
      "swish": .swish, "silu": .swish, "hard_sigmoid": .hardSigmoid, "hard_swish": .hardSwish,
      "hard_silu": .hardSwish, "gelu": .gelu, "elu": .elu, "softplus": .softplus, "linear": .linear,
    ]
    for (name, activation) in names {
      XCTAssertEqual(try decode("Activation", #"{"activation": "\#(name)"}"#), .activation(activation), name)
      XCTAssertEqual(
        try decode(
          "Activation",
          #"{"activation": {"module": "builtins", "class_name": "function", "config": "\#(name)", "registered_name": "function"}}"#
        ),
        .activation(activation), name)
    }
    XCTAssertEqual(try decode("Dense", #"{"units": 2, "activation": null}"#), .dense(DenseSpec(units: 2)))
  }

  func testUnsupportedOptionsAreErrorsNamingTheLayer() {
    assertError(.unsupported, "Conv2D", #"{"filters": 4, "kernel_size": 3, "groups": 2}"#, mentions: "groups")
    assertError(
      .unsupported, "Conv2D", #"{"filters": 4, "kernel_size": 3, "data_format": "channels_first"}"#,
      mentions: "channels_first")
    assertError(
      .unsupported, "Conv2D", #"{"filters": 4, "kernel_size": 3, "padding": "causal"}"#, mentions: "causal")
    assertError(.unsupported, "Dense", #"{"units": 4, "activation": "selu"}"#, mentions: "selu")
    assertError(
      .unsupported, "Dense", #"{"units": 4, "activation": {"class_name": "LeakyReLU", "config": {}}}"#,
      mentions: "LeakyReLU")
    assertError(.unsupported, "Activation", #"{"activation": "hard_sigmoid"}"#, keras: 2, mentions: "0.2")
    assertError(.unsupported, "BatchNormalization", #"{"axis": 1}"#, mentions: "axis")
    assertError(.unsupported, "Softmax", #"{"axis": 1}"#, mentions: "axis")
    assertError(.invalidValue, "Rescaling", #"{"scale": "big"}"#, mentions: "scale")
    assertError(.unsupported, "Normalization", #"{"axis": 1}"#, mentions: "axis")
    assertError(.unsupported, "Dropout", #"{"rate": 0.5, "noise_shape": [1, null]}"#, mentions: "batch")
    assertError(.unsupported, "InputLayer", #"{"batch_shape": [null, null, null, 3]}"#, mentions: "None")
    assertError(.missing, "Dense", #"{"activation": "relu"}"#, mentions: "units")
    assertError(.invalidValue, "Conv2D", #"{"filters": 4, "kernel_size": "big"}"#, mentions: "kernel_size")
  }

  func testUnknownClassesAndNestedModelsAreNamed() {
    assertError(
      .unsupported, "LSTM", #"{"units": 4}"#, mentions: "has class LSTM, which adascale does not support")
    assertError(.unsupported, "Functional", "{}", mentions: "nested model (class Functional)")
    assertError(.unsupported, "Sequential", "{}", mentions: "nested model")
  }
}
