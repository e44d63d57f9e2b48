import AdaFormats
import AdaNN
import AdaProfile
import Foundation
import TestSupport
import XCTest

final class OpTableTests: XCTestCase {
  func testEveryRowSaysMeasuredOrModelledAndTheTableRoundTrips() throws {
    let graph = chain(
      [8, 8, 2],
      [
        ("c", .conv2D(Conv2DSpec(filters: 4, kernel: .square(3), padding: .same)), nil),
        ("r", .relu(ReLUSpec()), nil), ("f", .flatten, nil), ("d", .dense(DenseSpec(units: 3)), nil),
      ])
    var options = ProfileOptions(
      probe: ProbeConfig(budgetMs: 1, rounds: 2, warmupMs: 0.5, threads: 1), cacheDirectory: nil,
      version: "test")
    options.hostProbeBudgetMs = 2
    options.hostGemmSize = 32
    options.hostCopyBytes = 1 << 16
    let profile = try Profiler.profile(graph: graph, options: options)
    let pi = try DeviceCatalog.resolve("raspberry-pi-4", in: [devicesDirectory])
    let host = try DeviceCatalog.resolve("host", in: [devicesDirectory])
    let report = try ProfileReport(
      profile: profile, hostDevice: host, devices: [pi], context: DeviceContext(), batch: 4,
      probe: options.probe)
    let table = report.table
    XCTAssertEqual(table.rows.count, 2 * 5)
    XCTAssertEqual(Set(table.rows.filter { $0.device == "host" }.map(\.source)), ["measured"])
    XCTAssertEqual(Set(table.rows.filter { $0.device == "raspberry-pi-4" }.map(\.source)), ["modelled"])
    for row in table.rows where row.device == "raspberry-pi-4" {
      let hostRow = table.row(key: row.key, device: "host")!
      XCTAssertEqual(row.meanMs, hostRow.meanMs * row.factor, accuracy: 1e-12, row.key)
    }
    XCTAssertEqual(table.row(key: profile.ops[3].signature.key, device: "raspberry-pi-4")?.bound, .overhead)

    let path = Fixtures.temporaryDirectory().appendingPathComponent("ops-lut.json").path
    try table.save(to: path)
    let back = try OpTable.load(path: path)
    XCTAssertEqual(back.rows, table.rows)
    XCTAssertEqual(back.fingerprint, table.fingerprint)

    // The device rows of the report agree with the table plus the scaled context terms.
    let piRow = report.devices.first { $0.device == "raspberry-pi-4" }!
    let model = DeviceModel(device: pi, host: profile.host, threads: 1)
    let expected = zip(profile.ops, profile.terms).reduce(0.0) { sum, pair in
      sum + table.row(key: pair.0.signature.key, device: "raspberry-pi-4")!.meanMs
        + model.overheadMs(pair.1.overheadMs) + model.weightMs(pair.1.weightMs)
    }
    XCTAssertEqual(piRow.latency.meanMs, expected, accuracy: 1e-9)
    XCTAssertEqual(report.devices.first?.source, "measured")
  }
}
