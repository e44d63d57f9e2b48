import AdaCore
import Glibc
import XCTest

/// Whose crash a dead decode child was: adascale's trap, the OOM killer, or a library.
final class ChildCrashTests: XCTestCase {
  func testASwiftFatalErrorIsOursWhateverTheSignal() {
    let stderr = "some HDF5 diagnostics\nadascale/Foo.swift:12: Fatal error: Index out of range\n"
    XCTAssertEqual(
      ChildCrash(signal: SIGILL, stderr: stderr),
      .ours("adascale/Foo.swift:12: Fatal error: Index out of range"))
    XCTAssertEqual(
      ChildCrash(signal: SIGSEGV, stderr: stderr),
      .ours("adascale/Foo.swift:12: Fatal error: Index out of range"))
  }

  func testATrapWithoutAMessageIsStillOurs() {
    XCTAssertEqual(ChildCrash(signal: SIGTRAP, stderr: ""), .ours("signal \(SIGTRAP) (a Swift runtime trap)"))
  }

  func testSIGKILLIsTheKillerAndOtherSignalsTheLibrary() {
    XCTAssertEqual(ChildCrash(signal: SIGKILL, stderr: ""), .killed)
    XCTAssertEqual(
      ChildCrash(signal: SIGSEGV, stderr: "HDF5-DIAG: Error detected in HDF5"), .library(signal: SIGSEGV))
    XCTAssertEqual(ChildCrash(signal: SIGABRT, stderr: ""), .library(signal: SIGABRT))
    XCTAssertEqual(ChildCrash.name(SIGSEGV), "signal \(SIGSEGV), segmentation fault")
    XCTAssertEqual(ChildCrash.name(64), "signal 64")
  }
}
