import AdaBundle
import AdaBundleWriter
import CSV
import XCTest

/// `lut.csv`: RFC 4180 text that an independent reader (CSV.swift) reads back to the same rows.
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

  func testAnIndependentRFC4180ReaderGetsBackTheSameRows() throws {
    let rows = [
      row("v01"), row("v,1"), row("q\"uote"), row("line\r\nbreak"), row("ünïcode ✓", latency: 0.1 + 0.2),
      row("", latency: 1e-300), row("big", latency: 123_456_789.123_456_79, feasible: false),
    ]
    let reader = try CSVReader(string: LookupTable(rows: rows).csv, hasHeaderRow: true)
    XCTAssertEqual(reader.headerRow, LookupTable.csvColumns)
    var read: [LookupTable.Row] = []
    while let f = reader.next() {
      XCTAssertEqual(f.count, LookupTable.csvColumns.count)
      read.append(
        LookupTable.Row(
          variant: f[0], device: f[1], source: f[2], context: f[3], latencyMs: try XCTUnwrap(Double(f[4])),
          latencyStdMs: try XCTUnwrap(Double(f[5])), energyMj: try XCTUnwrap(Double(f[6])),
          memoryBytes: try XCTUnwrap(Int(f[7])), accuracy: try XCTUnwrap(Double(f[8])),
          feasible: try XCTUnwrap(["true": true, "false": false][f[9]])))
    }
    XCTAssertNil(reader.error)
    XCTAssertEqual(read, rows)
  }
}
