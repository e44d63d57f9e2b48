import AdaBundle
import AdaTensor
import XCTest

/// `lut.csv`: RFC 4180 text that reads back to the same rows.
final class LookupTableCSVTests: XCTestCase {
  func row(_ variant: String, latency: Double = 0.1, feasible: Bool = true) -> LookupTable.Row {
    LookupTable.Row(
      variant: variant, device: "host", source: "measured", context: "normal", latencyMs: latency,
      latencyStdMs: 1e-5, energyMj: 2.5, memoryBytes: 301_056, accuracy: 0.9066, feasible: feasible)
  }

  func testHeaderAndOneRecordPerRowWithCRLF() {
    let csv = LookupTable(rows: [row("v01"), row("v02", latency: 1234.5, feasible: false)]).csv
    XCTAssertEqual(
      csv,
      "variant,device,source,context,latency_ms,latency_std_ms,energy_mj,memory_bytes,accuracy,feasible\r\n"
        + "v01,host,measured,normal,0.1,1e-05,2.5,301056,0.9066,true\r\n"
        + "v02,host,measured,normal,1234.5,1e-05,2.5,301056,0.9066,false\r\n")
  }

  func testFieldsWithCommasQuotesAndLineBreaksAreQuoted() {
    XCTAssertEqual(LookupTable.csvField("plain"), "plain")
    XCTAssertEqual(LookupTable.csvField("a,b"), "\"a,b\"")
    XCTAssertEqual(LookupTable.csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
    XCTAssertEqual(LookupTable.csvField("two\nlines"), "\"two\nlines\"")
  }

  func testAwkwardTextAndExtremeNumbersRoundTrip() throws {
    let rows = [
      row("v,1"), row("q\"uote"), row("line\r\nbreak"), row("ünïcode ✓", latency: 0.1 + 0.2),
      row("", latency: 1e-300), row("big", latency: 123_456_789.123_456_79),
    ]
    XCTAssertEqual(try LookupTable.rows(csv: LookupTable(rows: rows).csv), rows)
  }

  func testHandWrittenCSVWithLFEndingsAndNoFinalNewlineParses() throws {
    let text =
      "variant,device,source,context,latency_ms,latency_std_ms,energy_mj,memory_bytes,accuracy,feasible\n"
      + "\"v,01\",host,measured,normal,0.5,0.01,1,100,0.75,true\n"
      + "v02,\"rpi \"\"4\"\"\",modelled,busy,3,0.1,4,200,0.5,false"
    let rows = try LookupTable.rows(csv: text)
    XCTAssertEqual(rows.map(\.variant), ["v,01", "v02"])
    XCTAssertEqual(rows[1].device, "rpi \"4\"")
    XCTAssertEqual(rows[1].latencyMs, 3)
    XCTAssertEqual(rows[1].memoryBytes, 200)
    XCTAssertFalse(rows[1].feasible)
  }

  func testMalformedCSVIsAnErrorNamingTheLine() {
    let header = LookupTable.csvColumns.joined(separator: ",") + "\r\n"
    let cases = [
      ("variant,device\r\n", "line 1"),
      (header + "v01,host,measured,normal,fast,0.01,1,100,0.75,true\r\n", "line 2, latency_ms"),
      (header + "v01,host,measured,normal,0.5,0.01,1,100,0.75,yes\r\n", "line 2, feasible"),
      (header + "v01,host,measured\r\n", "line 2"),
      (header + "v01,\"host,measured,normal,0.5,0.01,1,100,0.75,true\r\n", "line 2"),
      (header + "v\"01,host,measured,normal,0.5,0.01,1,100,0.75,true\r\n", "line 2"),
    ]
    for (text, path) in cases {
      XCTAssertThrowsError(try LookupTable.rows(csv: text, file: "lut.csv")) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.path, path, text)
        XCTAssertEqual(e.file, "lut.csv")
      }
    }
  }
}
