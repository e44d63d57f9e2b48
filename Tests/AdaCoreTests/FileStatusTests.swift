import AdaCore
import AdaTensor
import Foundation
import TestSupport
import XCTest

final class FileStatusTests: XCTestCase {
  func testASymbolicLinkIsMeasuredByTheFileItNames() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let target = dir.path("model.h5")
    try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: target))
    let link = dir.path("link.h5")
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
    XCTAssertEqual(FileStatus.size(link), 5000)
    XCTAssertEqual(FileStatus.size(target), 5000)
    XCTAssertEqual(FileStatus.modified(link), FileStatus.modified(target))
    XCTAssertNil(FileStatus.size(dir.path("missing")))
    XCTAssertNoThrow(try FileStatus.requireRegularOrDirectory(link))
  }

  func testAPipeIsRefusedWithoutReadingIt() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let pipe = dir.path("model.h5")
    XCTAssertEqual(mkfifo(pipe, 0o600), 0)
    XCTAssertThrowsError(try FileStatus.requireRegularOrDirectory(pipe)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .badFormat)
      XCTAssertEqual(e.file, pipe)
      XCTAssertTrue(e.message.contains("not a regular file"), e.message)
    }
    XCTAssertNoThrow(try FileStatus.requireRegularOrDirectory(dir.path("")))
    XCTAssertNoThrow(try FileStatus.requireRegularOrDirectory(dir.path("missing")))
  }
}
