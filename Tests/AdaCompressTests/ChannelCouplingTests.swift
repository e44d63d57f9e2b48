import AdaIO
import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaCompress

/// Channel coupling on the graphs of MobileNetV3 / EfficientNet patterns (Keras fixtures):
/// broadcasting squeeze-excite Multiply, Normalization, per-channel Rescaling.
final class ChannelCouplingTests: XCTestCase {
  typealias M = TestModels

  func load(_ name: String) throws -> Model {
    try KerasModelReader.load(path: Fixtures.path("keras/\(name).h5"))
  }

  func testSqueezeExciteGateIsCoupledChannelByChannelWithTheFeaturesItScales() throws {
    // features [8, 8, 16] from expanded_conv_1_expand (through BN, depthwise, activations) ⊙
    // gate [1, 1, 16] from expanded_conv_1_squeeze_excite_conv_1: channel c of both go together.
    let coupling = try ChannelCoupling(graph: try load("mobilenet_v3_tiny").graph)
    let features = coupling.atoms(of: "expanded_conv_1_expand").map(coupling.classOf)
    let gate = coupling.atoms(of: "expanded_conv_1_squeeze_excite_conv_1").map(coupling.classOf)
    XCTAssertEqual(features, gate)
    XCTAssertEqual(Set(features).count, 16, "16 classes, one per channel")
    XCTAssertFalse(coupling.prunableClasses(of: "expanded_conv_1_squeeze_excite_conv").isEmpty)
  }

  func testChannelBroadcastAndPerChannelConstantsFixTheirChannels() throws {
    // broadcast_ops: conv → … Multiply with a [6, 6, 1] gate (one channel, broadcast over C) and
    // Normalization(invert) downstream: conv's channels must stay.
    let coupling = try ChannelCoupling(graph: try load("broadcast_ops").graph)
    XCTAssertTrue(coupling.prunableClasses(of: "conv").isEmpty)
    XCTAssertTrue(coupling.prunableClasses(of: "channel_gate").isEmpty)
  }

  func testZeroRatioPruningIsTheIdentityOnApplicationPatterns() throws {
    for name in ["mobilenet_v3_tiny", "efficientnet_tiny", "broadcast_ops", "nested_transfer"] {
      let model = try load(name)
      let result = try PruneChannels(ratio: 0).apply(to: model, selecting: .all)
      XCTAssertEqual(result.model.graph, model.graph, name)
      XCTAssertEqual(result.model.parameters, model.parameters, name)
    }
  }

  func testPruningApplicationPatternsKeepsThemValidAndRunning() throws {
    for name in ["mobilenet_v3_tiny", "efficientnet_tiny", "broadcast_ops", "nested_transfer"] {
      let model = try load(name)
      let result = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .all)
      try result.model.validate()
      XCTAssertLessThanOrEqual(result.report.after.params, result.report.before.params, name)
      let y = M.predict(result.model, M.input(for: model))[0]
      XCTAssertEqual(y.shape, [3] + (try model.graph.inferShapes()[model.graph.outputs[0]]!), name)
      XCTAssertFalse(y.hasNonFinite, name)
      for node in model.graph.nodes {
        if case .normalization = node.spec {
          XCTAssertEqual(result.model.parameters[node.name, "mean"], model.parameters[node.name, "mean"])
        }
      }
    }
    // The SE block's squeeze conv (8 channels between two 1×1 convs) loses half of them.
    let v3 = try PruneChannels(ratio: 0.5).apply(to: try load("mobilenet_v3_tiny"), selecting: .all).model
    guard case .conv2D(let squeeze) = v3.graph.node(named: "expanded_conv_1_squeeze_excite_conv")!.spec else {
      return XCTFail("squeeze conv missing")
    }
    XCTAssertEqual(squeeze.filters, 4)
  }
}
