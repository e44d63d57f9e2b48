import AdaNN
import AdaTensor
import XCTest

@testable import AdaIO

/// Keras 3 ops on a tensor and a number (`x + 3.0`) become rescalings; whole-model agreement is
/// checked on the mobilenet_v3_tiny and broadcast_ops fixtures.
final class KerasOpConstantsTests: XCTestCase {
  let tensor = #"{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}"#

  func spec(_ className: String, _ args: String) throws -> LayerSpec? {
    let call = try JSONValue.parse(#"{"args": \#(args), "kwargs": {}}"#, file: nil, path: nil)
    let c = KerasLayerConfig(name: "op", className: className, config: .object([]), file: "m.h5")
    return try KerasOpConstants.spec(for: c, call: call)
  }

  func testConstantOpsBecomeRescalings() throws {
    XCTAssertEqual(try spec("Add", "[\(tensor), 3.0]"), .rescaling(RescalingSpec(scale: 1, offset: 3)))
    XCTAssertEqual(try spec("Add", "[3.0, \(tensor)]"), .rescaling(RescalingSpec(scale: 1, offset: 3)))
    XCTAssertEqual(try spec("Multiply", "[\(tensor), 0.5]"), .rescaling(RescalingSpec(scale: 0.5)))
    XCTAssertEqual(
      try spec("Subtract", "[3.0, \(tensor)]"), .rescaling(RescalingSpec(scale: -1, offset: 3)))
    XCTAssertEqual(
      try spec("Subtract", "[\(tensor), 3.0]"), .rescaling(RescalingSpec(scale: 1, offset: -3)))
    XCTAssertEqual(try spec("TrueDivide", "[\(tensor), 4.0]"), .rescaling(RescalingSpec(scale: 0.25)))
  }

  func testTensorOnlyCallsAreLeftToTheLayerDecoder() throws {
    XCTAssertNil(try spec("Add", "[[\(tensor), \(tensor)]]"))
    XCTAssertNil(try spec("Multiply", "[\(tensor), \(tensor)]"))
    XCTAssertNil(try spec("Dense", "[\(tensor), 3.0]"))
  }

  func testDividingByATensorIsUnsupportedAndNamesTheOp() {
    XCTAssertThrowsError(try spec("Divide", "[1.0, \(tensor)]")) {
      let e = $0 as! AdaError
      XCTAssertEqual(e.kind, .unsupported)
      XCTAssertEqual(e.path, "op")
    }
  }
}
