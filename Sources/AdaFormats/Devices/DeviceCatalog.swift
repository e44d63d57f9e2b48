import AdaProfile
import AdaTensor
import Foundation

/// Finds device profiles by name or path.
///
/// A name is looked up as `<name>.yaml` in, first found wins: `$ADASCALE_DEVICES_DIR`,
/// `./recipes/devices`, then `recipes/devices` in the directories above the running executable
/// (so a binary under `.build/` finds the repository's profiles from any working directory).
/// An argument ending in `.yaml`/`.yml` is read as a file.
public enum DeviceCatalog {
  public static func searchDirectories(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    currentDirectory: String = FileManager.default.currentDirectoryPath,
    executable: String = CommandLine.arguments.first ?? ""
  ) -> [String] {
    var dirs: [String] = []
    if let d = environment["ADASCALE_DEVICES_DIR"], !d.isEmpty { dirs.append(d) }
    dirs.append(URL(fileURLWithPath: currentDirectory).appendingPathComponent("recipes/devices").path)
    var url = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
    while url.path != "/" && !url.path.isEmpty {
      dirs.append(url.appendingPathComponent("recipes/devices").path)
      url.deleteLastPathComponent()
    }
    return dirs
  }

  /// The first search directory that exists.
  public static func directory(in dirs: [String] = searchDirectories()) -> String? {
    dirs.first { isDirectory($0) }
  }

  /// Device names (file stems) available in the first existing search directory, sorted.
  public static func available(in dirs: [String] = searchDirectories()) -> [String] {
    guard let dir = directory(in: dirs),
      let files = try? FileManager.default.contentsOfDirectory(atPath: dir)
    else { return [] }
    return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
  }

  /// A device by name or `.yaml` path. Unknown names are an error listing the available ones.
  public static func resolve(_ nameOrPath: String, in dirs: [String] = searchDirectories())
    throws(AdaError) -> DeviceProfile
  {
    if nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
      return try DeviceProfile.load(path: nameOrPath)
    }
    for dir in dirs {
      let path = URL(fileURLWithPath: dir).appendingPathComponent("\(nameOrPath).yaml").path
      if FileManager.default.fileExists(atPath: path) { return try DeviceProfile.load(path: path) }
    }
    let names = available(in: dirs)
    throw AdaError(
      .invalidValue, path: "--device",
      "unknown device '\(nameOrPath)'; available: "
        + (names.isEmpty ? "none found (no recipes/devices directory)" : names.joined(separator: ", ")),
      hint: "pass a device name from recipes/devices or a path to a device .yaml file")
  }

  static func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
  }
}
