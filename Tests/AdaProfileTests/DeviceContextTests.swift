import AdaProfile
import AdaTensor
import XCTest

final class DeviceContextTests: XCTestCase {
  func testFullContextStringParsesEveryField() throws {
    let c = try DeviceContext.parse("cpu=0.5,freq=0.8,mem=512,battery=0.3,thermal=fair")
    XCTAssertEqual(c.cpuShare, 0.5)
    XCTAssertEqual(c.frequencyScale, 0.8)
    XCTAssertEqual(c.memoryAvailableMB, 512)
    XCTAssertEqual(c.batteryLevel, 0.3)
    XCTAssertEqual(c.thermal, .fair)
    XCTAssertEqual(c.effectiveClock, 0.8 * 0.9, accuracy: 1e-12)
  }

  func testMissingFieldsKeepNominalDefaults() throws {
    let c = try DeviceContext.parse("thermal=serious")
    XCTAssertEqual(c.cpuShare, 1)
    XCTAssertEqual(c.frequencyScale, 1)
    XCTAssertNil(c.memoryAvailableMB)
    XCTAssertNil(c.batteryLevel)
    XCTAssertEqual(c, try DeviceContext.parse(c.description), "description parses back")
  }

  func testBadValuesNameTheFieldAndWhatWasExpected() {
    let cases: [(String, String, String)] = [
      ("cpu=0", "context.cpu", "(0, 1]"),
      ("cpu=abc", "context.cpu", "found 'abc'"),
      ("freq=1.5", "context.freq", "(0, 1]"),
      ("mem=-1", "context.mem", "megabytes"),
      ("battery=2", "context.battery", "[0, 1]"),
      ("thermal=hot", "context.thermal", "nominal, fair, serious, critical"),
      ("gpu=1", "context.gpu", "unknown field"),
      ("cpu=0.5,cpu=0.6", "context.cpu", "twice"),
      ("cpu", "--context", "field=value"),
    ]
    for (text, path, fragment) in cases {
      XCTAssertThrowsError(try DeviceContext.parse(text), text) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.path, path, text)
        XCTAssertEqual(e.kind, .invalidValue, text)
        XCTAssertTrue(e.message.contains(fragment), "\(text): \(e.message)")
      }
    }
  }
}
