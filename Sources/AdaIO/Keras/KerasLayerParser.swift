import AdaNN
import AdaTensor

/// One model config (top level or nested) turned into nodes, with nested models already
/// flattened into it (`KerasNestedModels`).
struct ParsedKerasModel {
  var name: String
  var className: String
  /// The model's nodes. A nested model's input is not a node: its layers read `inputName`,
  /// which the enclosing model replaces with what the nested model is called on.
  var nodes: [Node]
  var inputName: String
  var outputs: [String]
  /// `model.layers`, for the weight readers.
  var members: [KerasArchitecture.Member]
}

/// Turns the layer entries of Sequential and Functional configs into nodes.
struct KerasLayerParser {
  var file: String?
  var kerasMajor: Int

  /// A Sequential or Functional config (`{"class_name": …, "config": {…}}`). `nested`: the model
  /// is a layer of another model; `trainable`: every enclosing model is trainable.
  func model(_ json: JSONValue, nested: Bool, trainable: Bool) throws(AdaError) -> ParsedKerasModel {
    let className = json["class_name"]?.string ?? ""
    let body = json["config"] ?? .object([])
    let entries = body.array ?? body["layers"]?.array ?? []
    let name =
      body["name"]?.string ?? json["name"]?.string ?? (className == "Sequential" ? "sequential" : "model")
    let t = trainable && (body["trainable"]?.bool ?? true)
    if className == "Sequential" {
      return try sequential(name: name, entries: entries, body: body, nested: nested, trainable: t)
    }
    return try functional(name: name, entries: entries, body: body, nested: nested, trainable: t)
  }

  func decode(_ entry: JSONValue, index: Int, trainable: Bool) throws(AdaError) -> KerasArchitecture.Layer {
    let config = entry["config"] ?? .object([])
    guard let className = entry["class_name"]?.string else {
      throw AdaError(.badFormat, file: file, path: "layers[\(index)]", "layer entry has no class_name")
    }
    guard let name = entry["name"]?.string ?? config["name"]?.string else {
      throw AdaError(.badFormat, file: file, path: "layers[\(index)]", "layer entry has no name")
    }
    let c = KerasLayerConfig(
      name: name, className: className, config: config, file: file, kerasMajor: kerasMajor)
    var spec = try KerasOpConstants.spec(for: c, call: entry["inbound_nodes"]?.array?.first)
    if spec == nil { spec = try KerasLayerDecoding.spec(for: c) }
    return .init(
      name: name, kerasName: name, className: className, spec: spec!,
      trainable: trainable && (config["trainable"]?.bool ?? true),
      statistics: try KerasLayerDecoding.normalizationStatistics(c))
  }

  func isModel(_ entry: JSONValue) -> Bool {
    KerasLayerDecoding.modelClasses.contains(entry["class_name"]?.string ?? "")
  }

  func sequential(name: String, entries: [JSONValue], body: JSONValue, nested: Bool, trainable: Bool)
    throws(AdaError) -> ParsedKerasModel
  {
    var names = KerasNestedModels(model: name, reserved: entries.compactMap { $0["config"]?["name"]?.string })
    var nodes: [Node] = []
    var members: [KerasArchitecture.Member] = []
    var inputName = KerasNestedModels.placeholderInput
    var previous: String? = nested ? inputName : nil
    if !nested, entries.first?["class_name"]?.string != "InputLayer" {
      // Keras 2 puts the input shape on the first layer; Keras 3 may keep it in build_input_shape.
      let first = entries.first?["config"]
      let shape = first?["batch_input_shape"] ?? first?["batch_shape"] ?? body["build_input_shape"]
      guard let shape, !shape.isNull else {
        throw AdaError(
          .missing, file: file, path: name, "Sequential model has no input layer and no input shape")
      }
      let firstName = entries.first?["config"]?["name"]?.string ?? "sequential"
      inputName = kerasMajor < 3 ? "\(firstName)_input" : "input_layer"
      let c = KerasLayerConfig(
        name: inputName, className: "InputLayer", config: .object(["batch_shape": shape]), file: file)
      nodes.append(Node(name: inputName, spec: .input(try KerasLayerDecoding.inputSpec(c)), inputs: []))
      previous = inputName
    }
    for (i, e) in entries.enumerated() {
      if isModel(e) {
        let inner = try model(e, nested: true, trainable: trainable)
        let spliced = try names.splice(inner, input: previous!, file: file)
        guard spliced.outputs.count == 1 else {
          throw AdaError(
            .unsupported, file: file, path: inner.name,
            "nested model '\(inner.name)' has \(spliced.outputs.count) outputs; a Sequential layer needs one")
        }
        nodes += spliced.nodes
        members.append(.model(spliced.model))
        previous = spliced.outputs[0]
        continue
      }
      let layer = try decode(e, index: i, trainable: trainable)
      if layer.className == "InputLayer" {
        guard i == 0 else {
          throw AdaError(
            .unsupported, file: file, path: layer.name, "Sequential model has a second input layer")
        }
        inputName = layer.name
        if !nested { nodes.append(Node(name: layer.name, spec: layer.spec, inputs: [])) }
        previous = layer.name
        continue
      }
      nodes.append(Node(name: layer.name, spec: layer.spec, inputs: [previous!]))
      members.append(.layer(layer))
      previous = layer.name
    }
    guard let last = previous, last != inputName else {
      throw AdaError(.invalidValue, file: file, path: name, "Sequential model has no layers")
    }
    return ParsedKerasModel(
      name: name, className: "Sequential", nodes: nodes, inputName: inputName, outputs: [last],
      members: members)
  }

  func functional(name: String, entries: [JSONValue], body: JSONValue, nested: Bool, trainable: Bool)
    throws(AdaError) -> ParsedKerasModel
  {
    var names = KerasNestedModels(model: name, reserved: entries.compactMap(entryName))
    var nodes: [Node] = []
    var members: [KerasArchitecture.Member] = []
    var inputNames: [String] = []
    /// Nested model name → its output nodes in the flat graph.
    var outputsOf: [String: [String]] = [:]
    func resolve(_ refs: [(String, Int)], layer: String) throws(AdaError) -> [String] {
      var out: [String] = []
      for (producer, tensor) in refs {
        if let outputs = outputsOf[producer] {
          guard tensor < outputs.count else {
            throw AdaError(
              .invalidValue, file: file, path: layer,
              "layer '\(layer)' reads output \(tensor) of nested model '\(producer)', which has \(outputs.count)"
            )
          }
          out.append(outputs[tensor])
        } else {
          guard tensor == 0 else {
            throw AdaError(
              .unsupported, file: file, path: layer,
              "layer '\(layer)' reads output \(tensor) of '\(producer)' (a multi-output layer)")
          }
          out.append(producer)
        }
      }
      return out
    }
    for (i, e) in entries.enumerated() {
      let entryLabel = entryName(e) ?? "layers[\(i)]"
      let inputs = try resolve(try inbound(e, layer: entryLabel), layer: entryLabel)
      if isModel(e) {
        guard inputs.count == 1 else {
          throw AdaError(
            .unsupported, file: file, path: entryLabel,
            "nested model '\(entryLabel)' is called on \(inputs.count) tensors; adascale supports one input")
        }
        let inner = try model(e, nested: true, trainable: trainable)
        let spliced = try names.splice(inner, input: inputs[0], file: file)
        nodes += spliced.nodes
        members.append(.model(spliced.model))
        outputsOf[entryLabel] = spliced.outputs
        continue
      }
      let layer = try decode(e, index: i, trainable: trainable)
      members.append(.layer(layer))
      if layer.className == "InputLayer" {
        inputNames.append(layer.name)
        if nested { continue }
      }
      nodes.append(Node(name: layer.name, spec: layer.spec, inputs: inputs))
    }
    guard inputNames.count == 1 else {
      throw AdaError(
        .unsupported, file: file, path: name,
        "model has \(inputNames.count) inputs (\(inputNames.joined(separator: ", "))); adascale supports one")
    }
    let outputs = try resolve(try references(body["output_layers"], model: name), layer: name)
    guard !outputs.isEmpty else {
      throw AdaError(.missing, file: file, path: name, "Functional model config has no output_layers")
    }
    return ParsedKerasModel(
      name: name, className: "Functional", nodes: nodes, inputName: inputNames[0], outputs: outputs,
      members: members)
  }

  func entryName(_ e: JSONValue) -> String? { e["name"]?.string ?? e["config"]?["name"]?.string }

  /// The producers (name, output index) of a Functional layer's single call.
  func inbound(_ entry: JSONValue, layer: String) throws(AdaError) -> [(String, Int)] {
    let calls = entry["inbound_nodes"]?.array ?? []
    if calls.isEmpty { return [] }
    guard calls.count == 1 else {
      throw AdaError(
        .unsupported, file: file, path: layer,
        "layer '\(layer)' is called \(calls.count) times (a shared layer), which adascale does not support")
    }
    var history: [JSONValue] = []
    if let list = calls[0].array {
      history = list  // Keras 2: [[name, node, tensor, {kwargs}], …]
    } else {
      collectKerasTensors(calls[0]["args"], into: &history)  // Keras 3
      var fromKwargs: [JSONValue] = []
      collectKerasTensors(calls[0]["kwargs"], into: &fromKwargs)
      guard fromKwargs.isEmpty else {
        throw AdaError(
          .unsupported, file: file, path: layer, "layer '\(layer)' receives tensors as keyword arguments")
      }
    }
    var refs: [(String, Int)] = []
    for h in history { refs.append(try reference(h, layer: layer)) }
    return refs
  }

  /// Keras 3 `__keras_tensor__` entries anywhere inside `value`, in order.
  func collectKerasTensors(_ value: JSONValue?, into out: inout [JSONValue]) {
    guard let value else { return }
    if value["class_name"]?.string == "__keras_tensor__", let h = value["config"]?["keras_history"] {
      out.append(h)
    } else if let a = value.array {
      for v in a { collectKerasTensors(v, into: &out) }
    } else if case .object(let members) = value {
      for m in members { collectKerasTensors(m.value, into: &out) }
    }
  }

  /// `[name, node_index, tensor_index, …]` → (name, tensor index); only first calls exist here.
  func reference(_ h: JSONValue, layer: String) throws(AdaError) -> (String, Int) {
    guard let a = h.array, let producer = a.first?.string else {
      throw AdaError(.badFormat, file: file, path: layer, "inbound reference \(h.text) is malformed")
    }
    let nodeIndex = a.count > 1 ? a[1].int ?? 0 : 0
    let tensorIndex = a.count > 2 ? a[2].int ?? 0 : 0
    guard nodeIndex == 0 else {
      throw AdaError(
        .unsupported, file: file, path: layer,
        "layer '\(layer)' reads call \(nodeIndex) of '\(producer)' (a shared layer)")
    }
    return (producer, tensorIndex)
  }

  /// `input_layers` / `output_layers`: `[name, 0, 0]` or `[[name, 0, 0], …]`.
  func references(_ value: JSONValue?, model: String) throws(AdaError) -> [(String, Int)] {
    guard let a = value?.array, !a.isEmpty else { return [] }
    if a.first?.string != nil { return [try reference(.array(a), layer: model)] }
    var out: [(String, Int)] = []
    for r in a { out.append(try reference(r, layer: model)) }
    return out
  }

  /// Nodes in an order where producers come first, keeping config order where possible.
  /// A reference to a layer that does not exist, or a cycle, is an error naming the layer.
  func topologicallySorted(_ nodes: [Node], model: String) throws(AdaError) -> [Node] {
    let names = Set(nodes.map(\.name))
    for n in nodes {
      if let bad = n.inputs.first(where: { !names.contains($0) }) {
        throw AdaError(
          .invalidValue, file: file, path: n.name,
          "layer '\(n.name)' reads '\(bad)', which is not in the model")
      }
    }
    var placed = Set<String>()
    var out: [Node] = []
    var pending = nodes
    while !pending.isEmpty {
      guard let i = pending.firstIndex(where: { $0.inputs.allSatisfy(placed.contains) }) else {
        throw AdaError(.invalidValue, file: file, path: pending[0].name, "the model's layers form a cycle")
      }
      placed.insert(pending[i].name)
      out.append(pending.remove(at: i))
    }
    return out
  }
}
