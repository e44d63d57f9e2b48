import AdaFormats
import AdaIO
import AdaProfile
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `recipes/devices` in the source tree.
let devicesDirectory = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("recipes/devices").path

final class DeviceProfileTests: XCTestCase {
  func testEveryCommittedDeviceFileLoadsAndIsNamedLikeItsFile() throws {
    let names = DeviceCatalog.available(in: [devicesDirectory])
    XCTAssertEqual(names, ["host", "jetson-nano-cpu", "phone-big-core", "raspberry-pi-4"])
    for name in names {
      let d = try DeviceCatalog.resolve(name, in: [devicesDirectory])
      XCTAssertEqual(d.name, name)
      XCTAssertEqual(d.measured, name == "host", name)
      if !d.measured {
        XCTAssertNotNil(d.peakGflopsPerCore, name)
        XCTAssertNotNil(d.memoryBandwidthGBs, name)
        XCTAssertNotNil(d.clockGHz, name)
      }
      XCTAssertGreaterThan(d.activePowerPerCoreW, 0, name)
    }
  }

  /// Every constant in a device file carries its source: each key line is preceded by a comment.
  func testEveryConstantInTheDeviceFilesHasACommentAboveIt() throws {
    for name in DeviceCatalog.available(in: [devicesDirectory]) {
      let path = "\(devicesDirectory)/\(name).yaml"
      let lines = try String(contentsOfFile: path, encoding: .utf8).split(
        separator: "\n", omittingEmptySubsequences: false)
      for (i, line) in lines.enumerated() {
        let key = line.split(separator: ":").first.map(String.init) ?? ""
        guard !line.hasPrefix("#"), !line.isEmpty,
          !["name", "description", "measured"].contains(key)
        else { continue }
        // Walk up over the block of key lines this one belongs to; a comment must head it.
        var j = i - 1
        while j >= 0 && !lines[j].hasPrefix("#") && !lines[j].isEmpty { j -= 1 }
        XCTAssertTrue(
          j >= 0 && lines[j].hasPrefix("#"),
          "\(name).yaml:\(i + 1): '\(key)' has no source comment above it")
      }
    }
  }

  func testUnknownDeviceListsTheAvailableOnes() {
    XCTAssertThrowsError(try DeviceCatalog.resolve("toaster", in: [devicesDirectory])) { error in
      let e = error as! AdaError
      XCTAssertTrue(e.message.contains("unknown device 'toaster'"), e.message)
      XCTAssertTrue(e.message.contains("host, jetson-nano-cpu, phone-big-core, raspberry-pi-4"), e.message)
    }
  }

  func testDeviceFileErrorsNameTheLineAndKey() throws {
    let missing = """
      name: toy
      cores: 2
      clock_ghz: 1.0
      memory_bandwidth_gbs: 5
      idle_power_w: 1
      active_power_per_core_w: 1
      energy_per_byte_pj: 100
      """
    XCTAssertThrowsError(try DeviceProfile.parse(YAMLValue.parse(missing, file: "toy.yaml"))) {
      let e = $0 as! AdaError
      XCTAssertEqual(e.path, "peak_gflops_per_core")
      XCTAssertEqual(e.kind, .missing)
      XCTAssertTrue(e.file?.hasPrefix("toy.yaml") == true)
    }
    let negative = missing + "\npeak_gflops_per_core: -3"
    XCTAssertThrowsError(try DeviceProfile.parse(YAMLValue.parse(negative, file: "toy.yaml"))) {
      let e = $0 as! AdaError
      XCTAssertEqual(e.path, "peak_gflops_per_core")
      XCTAssertEqual(e.file, "toy.yaml:8")
      XCTAssertTrue(e.message.contains("positive"), e.message)
    }
    let typo = missing + "\npeak_gflops_per_core: 3\nbandwidth: 2"
    XCTAssertThrowsError(try DeviceProfile.parse(YAMLValue.parse(typo, file: "toy.yaml"))) {
      XCTAssertTrue(($0 as! AdaError).message.contains("unknown key 'bandwidth'"))
    }
  }
}
