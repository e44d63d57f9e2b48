import Foundation

/// Locations of committed test fixtures (made by tools/reference/, see its README).
public enum Fixtures {
  /// `Tests/Fixtures` in the source tree.
  public static let directory: URL = {
    var url = URL(fileURLWithPath: #filePath)  // …/Tests/TestSupport/Fixtures.swift
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    return url.appendingPathComponent("Fixtures")
  }()

  public static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }
  public static func path(_ relative: String) -> String { url(relative).path }

  /// A fresh temporary directory, removed by the caller or at exit.
  public static func temporaryDirectory(_ prefix: String = "adascale-test") -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
