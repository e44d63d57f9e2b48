import AdaFormats
import AdaIO
import AdaProfile
import AdaTensor
import Foundation

extension Recipe {
  /// Where and in which situations the variants will run (`targets:`): device profiles to
  /// predict latency and energy for, and named run-time contexts (CPU share, clock, memory,
  /// battery, thermal) to pick a best variant for.
  public struct TargetsSpec: Codable, Hashable, Sendable {
    /// Device names from `recipes/devices` (or `.yaml` paths), as written, distinct.
    public var devices: [String] = ["host"]
    /// Contexts in the order written.
    public var contexts: [NamedContext] = [NamedContext(name: "normal", context: DeviceContext(cpuShare: 1))]

    public init() {}

    static let keys = ["devices", "contexts"]

    static func decode(_ v: YAMLValue, _ context: DecodingContext) throws(AdaError) -> TargetsSpec {
      try v.checkRecipeSection(keys)
      var t = TargetsSpec()
      if v["devices"].exists {
        t.devices = try v["devices"].distinctStrings()
        guard !t.devices.isEmpty else { throw v["devices"].error("list at least one device, e.g. [host]") }
        for (item, name) in zip(try v["devices"].array(), t.devices) {
          _ = try profile(name, at: item, context)
        }
      }
      if v["contexts"].exists { t.contexts = try decodeContexts(v["contexts"]) }
      return t
    }

    /// Finds and reads a device profile the way `DeviceCatalog.resolve` does (search
    /// directories relative to the base directory), with errors located at the recipe entry.
    static func profile(_ name: String, at v: YAMLValue, _ context: DecodingContext) throws(AdaError)
      -> DeviceProfile
    {
      let dirs = DeviceCatalog.searchDirectories(currentDirectory: context.baseDirectory)
      let path: String
      if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
        path = context.resolve(name)
        guard FileManager.default.fileExists(atPath: path) else {
          throw v.error("device profile not found: \(path)", kind: .fileNotFound)
        }
      } else {
        let candidates = dirs.map { URL(fileURLWithPath: $0).appendingPathComponent("\(name).yaml").path }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
          let available = DeviceCatalog.available(in: dirs)
          var e = v.error(
            "unknown device '\(name)'\(Suggestion.didYouMean(name, among: available)); available: "
              + (available.isEmpty
                ? "none (no recipes/devices directory found)" : available.joined(separator: ", ")))
          e.hint = "use a device name from recipes/devices or the path of a device .yaml file"
          throw e
        }
        path = found
      }
      return try v.locating { () throws(AdaError) in try DeviceProfile.load(path: path) }
    }

    static func decodeContexts(_ v: YAMLValue) throws(AdaError) -> [NamedContext] {
      guard v.node?.mapping != nil else {
        throw v.expected("a mapping of context names to {cpu: …} or \"cpu=…,freq=…\"")
      }
      var contexts: [NamedContext] = []
      for (name, value) in try v.entries() {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
          throw value.error("a context needs a name")
        }
        contexts.append(NamedContext(name: name, context: try decodeContext(value)))
      }
      guard !contexts.isEmpty else { throw v.error("list at least one context, e.g. normal: {cpu: 1.0}") }
      return contexts
    }

    /// `{cpu: 0.5, battery: 0.3}` or `"cpu=0.5,battery=0.3"`; fields as `DeviceContext.parse`.
    static func decodeContext(_ v: YAMLValue) throws(AdaError) -> DeviceContext {
      if v.node?.mapping != nil {
        try v.checkRecipeSection(DeviceContext.fields)
        var pairs: [String] = []
        for (field, value) in try v.entries() {
          let pair = "\(field)=\(try value.string())"
          _ = try parse(pair, at: value)
          pairs.append(pair)
        }
        return try parse(pairs.joined(separator: ","), at: v)
      }
      guard v.node?.scalar != nil else {
        throw v.expected("{cpu: …, freq: …, mem: …, battery: …, thermal: …} or \"cpu=0.5,freq=0.8\"")
      }
      return try parse(try v.string(), at: v)
    }

    /// `DeviceContext.parse`, its error moved to `v` and worded for a recipe.
    static func parse(_ text: String, at v: YAMLValue) throws(AdaError) -> DeviceContext {
      do {
        return try DeviceContext.parse(text)
      } catch {
        let field = error.path.flatMap { $0.hasPrefix("context.") ? String($0.dropFirst(8)) : nil }
        throw v.error("bad context '\(text)': " + (field.map { "\($0): " } ?? "") + error.message)
      }
    }
  }

  /// The device profiles `targets.devices` names, read (their files were checked at load).
  public func deviceProfiles() throws(AdaError) -> [DeviceProfile] {
    let doc = try YAMLValue.parse(text, file: file)["targets"]["devices"]
    let items = doc.exists ? try doc.array() : targets.devices.map { _ in doc }
    var profiles: [DeviceProfile] = []
    for (item, name) in zip(items, targets.devices) {
      profiles.append(try TargetsSpec.profile(name, at: item, DecodingContext(baseDirectory: baseDirectory)))
    }
    return profiles
  }
}
