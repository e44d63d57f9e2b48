import AdaFormats
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// Inputs found by the fuzz targets (`make fuzz`, docs/testing.md "Fuzzing") that crashed a
/// reader of Keras files; each must now be an `AdaError` naming the file, read from a path
/// and from memory alike.
final class KerasArchiveReaderFuzzTests: XCTestCase {
  /// fuzz-keras, 2026-12-04: a zip whose central directory lies past the end of the data.
  /// ZIPFoundation's in-memory archive seeked there and trapped on its next read (`Range
  /// requires lowerBound <= upperBound`, SIGILL): `adascale inspect` with
  /// `ADASCALE_DECODE_IN_PROCESS=1` died, and with the child process it blamed HDF5 (`the HDF5
  /// library crashed (signal 4)`). The zip is now read from a file. The fixture is the 22-byte
  /// core of the 33 KB input the fuzzer found (reduced by hand; libFuzzer's minimiser lost the
  /// crash): only an end-of-central-directory record, directory offset 1000.
  func testAZipDirectoryPointingPastTheEndIsAnErrorNotACrash() throws {
    let path = Fixtures.path("fuzz/keras-zip-offset-past-the-end.keras")
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try KerasFile.load(path: path)) { error in
      let e = error as? AdaError
      XCTAssertEqual(e?.file, path, "\(error)")
      XCTAssertEqual(e?.kind, .badFormat, "\(error)")
    }
    XCTAssertThrowsError(try KerasArchiveReader.load(data: data, name: "upload.keras")) { error in
      let e = error as? AdaError
      XCTAssertEqual(e?.file, "upload.keras", "\(error)")
      XCTAssertEqual(e?.kind, .badFormat, "\(error)")
    }
  }

  /// The in-memory reader gives the same model as the file reader for a good `.keras`.
  func testAKerasArchiveInMemoryReadsLikeTheFile() throws {
    let path = Fixtures.path("keras/mlp.keras")
    let fromFile = try KerasFile.load(path: path)
    let fromMemory = try KerasArchiveReader.load(
      data: try Data(contentsOf: URL(fileURLWithPath: path)), name: "mlp.keras")
    XCTAssertEqual(fromMemory.graph, fromFile.graph)
    XCTAssertEqual(fromMemory.parameters, fromFile.parameters)
  }
}
