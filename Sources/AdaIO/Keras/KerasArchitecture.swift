import AdaNN
import AdaTensor

/// A Keras model config (the `model_config` attribute, `config.json`, or `model.to_json()`)
/// decoded into one flat `Graph`, plus what the weight readers need: each layer's class, its
/// name inside its own model, and the `model.layers` tree (nested models included), which
/// decides where weights are stored.
///
/// Handles Sequential and Functional models in both config dialects:
/// - Keras 3: `inbound_nodes: [{"args": [{"class_name": "__keras_tensor__",
///   "config": {"keras_history": [layer, node, tensor]}}], "kwargs": {}}]`, `batch_shape`;
/// - Keras 2: `inbound_nodes: [[[layer, node, tensor, {}], …]]`, `batch_input_shape`.
///
/// A model used as a layer (a Sequential or Functional entry, at any depth) is flattened into
/// the graph (`KerasNestedModels`): its input node disappears, its layers read what the model
/// was called on, and readers of the model read its output layer. Inner layers keep their names
/// unless that name is taken, then they become `<inner model>_<name>` (`_2`, `_3`, … if needed).
struct KerasArchitecture {
  /// One leaf layer (a graph node).
  struct Layer {
    /// The node name in the flattened graph (= the Keras name unless renamed on a collision).
    var name: String
    /// The layer's name inside its own model, as the weight files know it.
    var kerasName: String
    var className: String
    var spec: LayerSpec
    /// Whether Keras counts the layer's variables as trainable: the layer and every model
    /// enclosing it have `trainable: true` (this orders a nested model's legacy weights).
    var trainable = true
    /// Normalization statistics given in the config (then the file stores no weights).
    var statistics: (mean: [Float], variance: [Float])?
  }

  /// A model used as a layer: its name and class in the enclosing model, its own `model.layers`.
  struct NestedModel {
    var kerasName: String
    var className: String
    var members: [Member]

    /// Every leaf layer inside, depth first in `model.layers` order.
    var leaves: [Layer] {
      members.flatMap { m -> [Layer] in
        switch m {
        case .layer(let l): [l]
        case .model(let n): n.leaves
        }
      }
    }
  }

  /// One entry of a model's `model.layers`.
  enum Member {
    case layer(Layer)
    case model(NestedModel)

    var kerasName: String {
      switch self {
      case .layer(let l): l.kerasName
      case .model(let m): m.kerasName
      }
    }
    var className: String {
      switch self {
      case .layer(let l): l.className
      case .model(let m): m.className
      }
    }
  }

  var graph: Graph
  /// The top model's `model.layers` (Sequential models leave out their input layer); nested
  /// models appear as `.model` members.
  var modelLayerOrder: [Member]
  var kerasMajor: Int

  /// Decodes `json`. `kerasVersion` is the writer's version when the file records it.
  init(json: JSONValue, file: String?, kerasVersion: String?) throws(AdaError) {
    let className = json["class_name"]?.string ?? ""
    guard json["config"] != nil else {
      throw AdaError(.badFormat, file: file, path: "model_config", "model config has no 'config' entry")
    }
    guard KerasLayerDecoding.modelClasses.contains(className) else {
      throw AdaError(
        .unsupported, file: file, path: "model_config",
        "model class '\(className)' is not supported; adascale reads Sequential and Functional models")
    }
    let body = json["config"]!
    let entries = body.array ?? body["layers"]?.array ?? []
    kerasMajor = KerasArchitecture.majorVersion(kerasVersion, entries: entries)
    let parser = KerasLayerParser(file: file, kerasMajor: kerasMajor)
    let model = try parser.model(json, nested: false, trainable: true)
    let nodes = try parser.topologicallySorted(model.nodes, model: model.name)
    graph = Graph(name: model.name, nodes: nodes, outputs: model.outputs)
    modelLayerOrder = model.members
  }

  /// 2 for Keras 1/2 files, else 3; without a recorded version, Keras 2 is recognised by its
  /// config dialect (`batch_input_shape`, list-style `inbound_nodes`).
  static func majorVersion(_ version: String?, entries: [JSONValue]) -> Int {
    if let v = version, let major = Int(v.split(separator: ".").first ?? "") { return major < 3 ? 2 : 3 }
    for e in entries {
      if e["config"]?["batch_input_shape"] != nil { return 2 }
      if let node = e["inbound_nodes"]?.array?.first, node.array != nil { return 2 }
    }
    return 3
  }
}
