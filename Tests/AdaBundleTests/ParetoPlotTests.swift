import AdaBundle
import AdaBundleWriter
import Foundation
import XCTest

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `pareto.svg`: well-formed XML with one point per variant per series and the right scale.
final class ParetoPlotTests: XCTestCase {
  /// Collects the elements of an SVG document and their attributes.
  final class Elements: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text = ""
    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) { elements.append((name, attributes)) }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func withClass(_ c: String) -> [[String: String]] {
      elements.filter { $0.attributes["class"] == c }.map(\.attributes)
    }
  }

  /// Parses `svg`, failing the test when it is not well-formed.
  func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> Elements {
    let parser = XMLParser(data: Data(svg.utf8))
    let elements = Elements()
    parser.delegate = elements
    XCTAssertTrue(
      parser.parse(), "not well-formed: \(String(describing: parser.parserError))", file: file, line: line)
    XCTAssertEqual(elements.elements.first?.name, "svg", file: file, line: line)
    return elements
  }

  func testDevicePlotIsWellFormedWithOnePointPerVariantPerDevice() {
    let manifest = BundleFixtures.manifest()
    let svg = ParetoPlot.svg(manifest: manifest, lut: BundleFixtures.lut(manifest))
    let parsed = parse(svg)
    let points = parsed.withClass("point")
    for device in manifest.devices {
      let labels = points.filter { $0["data-series"] == device }.compactMap { $0["data-variant"] }
      XCTAssertEqual(labels, manifest.variants.map(\.id), device)
    }
    XCTAssertEqual(points.count, manifest.variants.count * manifest.devices.count)
    XCTAssertEqual(parsed.withClass("source").count, 1)
    XCTAssertEqual(parsed.withClass("front").count, manifest.devices.count)
    XCTAssertFalse(svg.contains("<script"))
    XCTAssertTrue(parsed.text.contains("context normal"), "the reference context is `normal`")
  }

  func testLatencyAxisIsLogarithmicOnlyWhenTheSpanExceedsFourTimes() {
    /// Two points, 0.1 ms and `slowest` ms apart.
    func plot(slowest: Double) -> String {
      let points: [ParetoPlot.Point] = [
        .init(label: "p", latencyMs: 0.1, accuracy: 0.5),
        .init(label: "q", latencyMs: slowest, accuracy: 0.6),
      ]
      return ParetoPlot.svg(title: "t", series: [.init(name: "a", points: points)], source: nil)
    }
    XCTAssertTrue(parse(plot(slowest: 0.5)).text.contains("log scale"))
    XCTAssertFalse(parse(plot(slowest: 0.35)).text.contains("log scale"))
  }

  func testPerDevicePlotHasOneSeriesPerContextAndHollowInfeasiblePoints() {
    let manifest = BundleFixtures.manifest()
    let lut = BundleFixtures.lut(manifest)
    let parsed = parse(ParetoPlot.svg(manifest: manifest, lut: lut, device: "raspberry-pi-4"))
    let points = parsed.withClass("point")
    XCTAssertEqual(points.filter { $0["data-series"] == "normal" }.count, 3)
    XCTAssertEqual(points.filter { $0["data-series"] == "busy" }.count, 3)
    let hollow = points.filter { $0["fill"] == "#ffffff" }.compactMap { $0["data-variant"] }
    XCTAssertEqual(hollow, ["v03"], "v03 does not fit the busy context")
    XCTAssertEqual(parsed.withClass("source").count, 0, "the source was measured on the host only")
  }

  func testTextIsEscaped() {
    let svg = ParetoPlot.svg(
      title: "a < b & \"c\"",
      series: [.init(name: "<dev>", points: [.init(label: "v&1", latencyMs: 1, accuracy: 0.5)])],
      source: nil)
    let parsed = parse(svg)
    XCTAssertEqual(parsed.withClass("point").first?["data-variant"], "v&1")
    XCTAssertTrue(parsed.text.contains("a < b & \"c\""))
  }

  func testEmptyTablePlotsNothingButStaysWellFormed() {
    let manifest = BundleFixtures.manifest()
    let parsed = parse(ParetoPlot.svg(manifest: manifest, lut: LookupTable(rows: [])))
    XCTAssertEqual(parsed.withClass("point").count, 0)
  }

  func testFrontKeepsOnlyNonDominatedFeasiblePointsByLatency() {
    let points: [ParetoPlot.Point] = [
      .init(label: "slow-bad", latencyMs: 3, accuracy: 0.7),
      .init(label: "fast", latencyMs: 1, accuracy: 0.8),
      .init(label: "best", latencyMs: 4, accuracy: 0.95),
      .init(label: "tie-worse", latencyMs: 1, accuracy: 0.75),
      .init(label: "mid", latencyMs: 2, accuracy: 0.9),
      .init(label: "infeasible", latencyMs: 0.5, accuracy: 0.99, feasible: false),
    ]
    XCTAssertEqual(ParetoPlot.front(points).map(\.label), ["fast", "mid", "best"])
  }
}
