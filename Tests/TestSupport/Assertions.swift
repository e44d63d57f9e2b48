import AdaTensor
import XCTest

/// Tolerance semantics, written down once (see docs/testing.md):
/// `|a − e| ≤ atol + rtol · scale`, where `scale` is the largest |e| over the whole tensor
/// ("relative to the output scale"), so tiny elements of a large output do not dominate.
public func assertClose(
  _ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 0,
  _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
  guard actual.shape == expected.shape else {
    XCTFail("shape \(actual.shape) ≠ expected \(expected.shape). \(message())", file: file, line: line)
    return
  }
  assertClose(actual.scalars, expected.scalars, rtol: rtol, atol: atol, message(), file: file, line: line)
}

public func assertClose(
  _ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 0,
  _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
  guard actual.count == expected.count else {
    XCTFail("count \(actual.count) ≠ expected \(expected.count). \(message())", file: file, line: line)
    return
  }
  let scale = expected.reduce(Float(0)) { max($0, abs($1)) }
  let bound = atol + rtol * max(scale, Float.leastNormalMagnitude)
  var worst = -1
  var worstErr: Float = 0
  for i in actual.indices {
    let err = abs(actual[i] - expected[i])
    if !(err <= bound) && (err > worstErr || err.isNaN || worst < 0) {
      worst = i
      worstErr = err
      if err.isNaN { break }
    }
  }
  if worst >= 0 {
    XCTFail(
      "worst element \(worst): \(actual[worst]) vs expected \(expected[worst]) "
        + "(|err| \(worstErr) > bound \(bound), scale \(scale)). \(message())",
      file: file, line: line)
  }
}

/// The `AdaError` that `body` throws; a test failure (and nil) when it returns or throws
/// something else.
@discardableResult
public func XCTAssertThrowsAdaError<T>(
  _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line
) -> AdaError? {
  do {
    _ = try body()
    XCTFail("expected an AdaError, nothing was thrown", file: file, line: line)
  } catch let error as AdaError {
    return error
  } catch {
    XCTFail("expected an AdaError, got \(error)", file: file, line: line)
  }
  return nil
}
