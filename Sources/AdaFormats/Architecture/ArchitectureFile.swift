import AdaNN
import AdaTensor

/// Reads a model architecture written by hand in YAML (`recipes/models/*.yaml`), for training
/// from scratch. Layers are listed in order; each reads the previous one unless it names `inputs`.
///
///     name: fmnist_cnn
///     input: [28, 28, 1]
///     layers:
///       - conv2d: {filters: 32, kernel: 3, padding: same}
///       - batch-norm
///       - relu
///       - max-pool2d: {pool: 2}
///       - flatten
///       - dense: {units: 10, activation: softmax}
///
/// Layer kinds are `LayerSpec.kindName`s; options are kebab-case. Unknown kinds and options are
/// errors naming the file, line and key (docs/formats.md lists every option).
public enum ArchitectureFile {
  public static func load(path: String) throws(AdaError) -> Graph {
    try parse(YAMLValue.load(path: path))
  }

  public static func parse(_ doc: YAMLValue) throws(AdaError) -> Graph {
    try doc.checkKeys(["name", "input", "layers", "outputs"])
    let name = try doc["name"].string(default: "model")
    let inputShape = try doc["input"].intArray()
    guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
      throw doc["input"].error("expected the shape of one example, e.g. [28, 28, 1]")
    }
    var nodes = [Node(name: "input", spec: .input(InputSpec(shape: inputShape)), inputs: [])]
    var counts: [String: Int] = [:]
    let layers = try doc["layers"].array()
    guard !layers.isEmpty else {
      throw doc["layers"].error("a model needs at least one layer", kind: .missing)
    }
    for entry in layers {
      let (kind, options) = try kindAndOptions(entry)
      let spec = try LayerSpecParser.parse(kind: kind, options: options)
      counts[kind, default: 0] += 1
      let nodeName = try options["name"].string(default: "\(kind)_\(counts[kind]!)")
      let inputs =
        options["inputs"].exists
        ? try options["inputs"].array().map { v throws(AdaError) in try v.string() }
        : [nodes.last!.name]
      nodes.append(Node(name: nodeName, spec: spec, inputs: inputs))
    }
    let outputs =
      doc["outputs"].exists
      ? try doc["outputs"].array().map { v throws(AdaError) in try v.string() } : [nodes.last!.name]
    let graph = Graph(name: name, nodes: nodes, outputs: outputs)
    do {
      _ = try graph.inferShapes()
    } catch {
      throw AdaError(error.kind, file: doc.file, path: error.path, error.message)
    }
    return graph
  }

  /// A layer entry is either `kind` or `{kind: {options}}`.
  static func kindAndOptions(_ entry: YAMLValue) throws(AdaError) -> (String, YAMLValue) {
    if let s = entry.node?.scalar?.string {
      return (s, YAMLValue(node: nil, keyPath: "\(entry.keyPath).\(s)", file: entry.file, line: entry.line))
    }
    let entries = try entry.entries()
    guard entries.count == 1, let (kind, options) = entries.first else {
      throw entry.error("a layer is `kind` or `kind: {options}` with exactly one kind")
    }
    return (kind, options)
  }
}

extension YAMLValue {
  /// Throws naming the first key that is not in `allowed` (catches typos in hand-written files).
  public func checkKeys(_ allowed: Set<String>) throws(AdaError) {
    for key in keys where !allowed.contains(key) {
      throw self[key].error(
        "unknown key '\(key)'; expected one of: \(allowed.sorted().joined(separator: ", "))")
    }
  }
}
