import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// The architecture files shipped in `recipes/models/` load, and the figures their headers and
/// docs/operators.md quote are what they build.
final class ArchitectureFileTests: XCTestCase {
  static let models = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("recipes/models")

  func testEveryShippedArchitectureLoadsAndHasAShape() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.models.path)
      .filter { $0.hasSuffix(".yaml") }.sorted()
    XCTAssertGreaterThanOrEqual(files.count, 8, "\(files)")
    for file in files {
      let graph = try ArchitectureFile.load(path: Self.models.appendingPathComponent(file).path)
      XCTAssertEqual(graph.name + ".yaml", file)
      XCTAssertGreaterThan(try graph.costs().total.params, 0, file)
    }
  }

  func testTheMobileNetsOfTheOperatorTableHaveTheirQuotedSize() throws {
    func total(_ file: String) throws -> LayerCost {
      try ArchitectureFile.load(path: Self.models.appendingPathComponent(file).path).costs().total
    }
    XCTAssertEqual(try total("mobilenet_fmnist.yaml").params, 9_610)
    XCTAssertEqual(try total("mobilenet_fmnist_wide.yaml"), LayerCost(params: 68_746, macs: 3_910_944))
    // The same backbone with Flatten + Dense(10) on 7·7·192 features instead of pooling.
    XCTAssertEqual(try total("mobilenet_fmnist_flat.yaml"), LayerCost(params: 160_906, macs: 4_003_104))
    let flat = try ArchitectureFile.load(
      path: Self.models.appendingPathComponent("mobilenet_fmnist_flat.yaml").path)
    XCTAssertEqual(flat.nodes.suffix(2).map(\.spec.kindName), ["flatten", "dense"])
  }
}
