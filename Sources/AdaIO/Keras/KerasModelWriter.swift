import AdaCore
import AdaNN
import AdaTensor
import Foundation

/// Writes an adascale `Model` as a Keras 3 legacy `.h5` that `keras.models.load_model` opens:
///
/// - root attributes `model_config` (a Keras 3 **Functional** config, also for chains),
///   `keras_version`, `backend` = `jax`;
/// - `model_weights/` with `layer_names` (split over `layer_names0, …` when large), `backend`,
///   `keras_version`; per layer a group with `weight_names` (`<layer>/<weight>`) and the datasets at
///   `model_weights/<layer>/<layer>/<weight>`, in the order Keras loads them (trainable, then
///   non-trainable; see `KerasWeightNames`); an empty `top_level_model_weights` group.
///
/// Keras loads legacy weights by position among the layers that have weights, in `model.layers`
/// order, which it derives from the graph (depth from the outputs, then DFS order). The writer
/// computes that same order (`kerasLayerOrder`) so positions agree. Nodes that no output depends
/// on are left out, as Keras would drop them.
///
/// The file is written to `path.tmp-<pid>` and renamed into place. `quantized` (integers and
/// scales of weights whose float values are their dequantization) go into an extra group Keras
/// ignores (`KerasQuantizedExtension`).
///
///     try KerasModelWriter.save(model, to: "variants/v3.h5")
public enum KerasModelWriter {
  /// The Keras version written into files: the version of the reference Keras used to check
  /// that they load (`tools/reference/check_keras_loads.py`).
  public static let kerasVersion = "3.15.1"

  public static func save(_ model: Model, quantized: QuantizedWeights = [:], to path: String) throws(AdaError)
  {
    let shapes: [String: [Int]]
    do {
      shapes = try model.validate()
    } catch {
      throw error.inFile(path)
    }
    try quantized.validate(against: model, file: path)
    for node in model.graph.nodes where node.name.isEmpty || node.name.contains("/") {
      throw AdaError(
        .invalidValue, file: path, path: node.name,
        "layer name '\(node.name)' cannot be written to Keras (empty or contains '/')")
    }
    let order = kerasLayerOrder(model.graph)
    let config = modelConfig(model.graph, order: order, shapes: shapes)
    try AtomicFile.write(to: path) { (temporary) throws(AdaError) in
      let file = try HDF5File.createInMemory(temporary)
      try file.root.writeAttribute("backend", string: "jax")
      try file.root.writeAttribute("keras_version", string: kerasVersion)
      try file.root.writeAttribute("model_config", string: config.text)
      let weights = try file.root.createGroup("model_weights")
      try weights.writeSplitStrings("layer_names", order.map(\.name))
      try weights.writeAttribute("backend", string: "jax")
      try weights.writeAttribute("keras_version", string: kerasVersion)
      for node in order.sorted(by: { $0.name < $1.name }) {
        let group = try weights.createGroup(node.name)
        var names: [String] = []
        for weight in KerasWeightNames.weights(for: node.spec) {
          let stored = "\(node.name)/\(weight.kerasName)"
          if weight.discarded {
            try group.write(dataset: stored, shape: [], values: [Int64(0)])
            names.append(stored)
            continue
          }
          guard let tensor = model.parameters[node.name, weight.internalName] else {
            throw AdaError(
              .missing, file: path, path: "\(node.name)/\(weight.internalName)", "weight is missing")
          }
          try group.write(dataset: stored, tensor: tensor)
          names.append(stored)
        }
        try group.writeSplitStrings("weight_names", names)
      }
      try weights.createGroup("top_level_model_weights").writeSplitStrings("weight_names", [])
      try KerasQuantizedExtension.write(quantized, into: file.root)
      try file.close()
    }
  }

  /// The Keras 3 Functional config for `graph`, layers in `order`.
  static func modelConfig(_ graph: Graph, order: [Node], shapes: [String: [Int]]) -> JSONValue {
    func tensor(_ name: String) -> JSONValue {
      .object([
        "class_name": .string("__keras_tensor__"),
        "config": .object([
          "shape": .array([.null] + (shapes[name] ?? []).map { .int($0) }),
          "dtype": .string("float32"),
          "keras_history": .array([.string(name), .int(0), .int(0)]),
        ]),
      ])
    }
    func reference(_ name: String) -> JSONValue { .array([.string(name), .int(0), .int(0)]) }
    var layers: [JSONValue] = []
    for node in order {
      let (className, options) = KerasLayerEncoding.encode(node.spec)
      var config: [JSONValue.Member] = [.init("name", .string(node.name))]
      if case .input = node.spec {
        config.append(.init("dtype", .string("float32")))
      } else {
        config += [.init("trainable", .bool(true)), .init("dtype", .string("float32"))]
      }
      config += options
      var inbound: [JSONValue] = []
      if !node.inputs.isEmpty {
        let args: JSONValue =
          KerasLayerEncoding.takesList(node.spec) ? .array(node.inputs.map(tensor)) : tensor(node.inputs[0])
        inbound = [.object(["args": .array([args]), "kwargs": .object([])])]
      }
      layers.append(
        .object([
          "class_name": .string(className), "config": .object(config), "name": .string(node.name),
          "inbound_nodes": .array(inbound),
        ]))
    }
    let outputs = graph.outputs.map(reference)
    return .object([
      "class_name": .string("Functional"),
      "config": .object([
        "name": .string(graph.name), "trainable": .bool(true), "layers": .array(layers),
        "input_layers": reference(graph.input.name),
        "output_layers": outputs.count == 1 ? outputs[0] : .array(outputs),
      ]),
    ])
  }

  /// The order of `model.layers` Keras computes for a Functional model (keras `map_graph`):
  /// depth-first from each output in turn recording first-visit order; depth = longest path to an
  /// output; layers sorted by decreasing depth, ties by first-visit order. Unreachable nodes are
  /// dropped.
  static func kerasLayerOrder(_ graph: Graph) -> [Node] {
    let byName = Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.name, $0) })
    var visitIndex: [String: Int] = [:]
    var finished = Set<String>()
    var postOrder: [String] = []
    func visit(_ name: String) {
      guard !finished.contains(name), let node = byName[name] else { return }
      if visitIndex[name] == nil { visitIndex[name] = visitIndex.count }
      for input in node.inputs { visit(input) }
      finished.insert(name)
      postOrder.append(name)
    }
    for output in graph.outputs { visit(output) }
    var depth: [String: Int] = [:]
    for name in postOrder.reversed() {
      let d = depth[name, default: 0]
      depth[name] = d
      for parent in byName[name]!.inputs { depth[parent] = max(depth[parent, default: 0], d + 1) }
    }
    return
      postOrder
      .sorted { (depth[$0]!, -visitIndex[$0]!) > (depth[$1]!, -visitIndex[$1]!) }
      .map { byName[$0]! }
  }
}
