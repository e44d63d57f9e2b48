import AdaNN
import AdaTensor

/// Flattens a nested model (a Sequential or Functional used as a layer) into the enclosing
/// model's nodes, choosing unique node names.
///
/// Naming rule (also in docs/formats.md): an inner layer keeps its Keras name unless the
/// enclosing model already uses it (one of its own layer names, or a name given to an earlier
/// nested layer); then it is `<inner model>_<name>`, with `_2`, `_3`, … appended while that is
/// taken too. Models nested deeper are flattened into their parent first, so the rule applies
/// level by level. The nested model's input disappears (its layers read the tensor the model is
/// called on) and readers of the nested model read its output layer(s).
///
///     outer: input_layer → mobilenetv2 (Functional: input_1 → Conv1 → … → out_relu) → gap → dense
///     flat:  input_layer → Conv1 → … → out_relu → gap → dense
struct KerasNestedModels {
  /// Name a nested Sequential without an InputLayer gives its input (never a real layer name:
  /// Keras names cannot contain '/').
  static let placeholderInput = "/input"

  /// The enclosing model's name.
  var model: String
  /// Names in use in the enclosing model.
  private(set) var taken: Set<String>

  init(model: String, reserved: [String]) {
    self.model = model
    taken = Set(reserved)
  }

  /// `inner`'s nodes renamed into this model, reading `input` where they read the inner input;
  /// its outputs and its `model.layers` tree with the new node names.
  mutating func splice(_ inner: ParsedKerasModel, input: String, file: String?) throws(AdaError)
    -> (nodes: [Node], outputs: [String], model: KerasArchitecture.NestedModel)
  {
    var rename: [String: String] = [inner.inputName: input]
    for node in inner.nodes {
      let new = unique(node.name, prefix: inner.name)
      rename[node.name] = new
      taken.insert(new)
    }
    let nodes = inner.nodes.map { n in
      Node(name: rename[n.name]!, spec: n.spec, inputs: n.inputs.map { rename[$0] ?? $0 })
    }
    var outputs: [String] = []
    for o in inner.outputs {
      guard let r = rename[o] else {
        throw AdaError(
          .invalidValue, file: file, path: inner.name,
          "nested model '\(inner.name)' names output '\(o)', which is not one of its layers")
      }
      outputs.append(r)
    }
    let members = Self.renamed(inner.members, rename)
    return (nodes, outputs, .init(kerasName: inner.name, className: inner.className, members: members))
  }

  /// `name` if free, else `<prefix>_<name>`, then `<prefix>_<name>_2`, ….
  func unique(_ name: String, prefix: String) -> String {
    if !taken.contains(name) { return name }
    let base = "\(prefix)_\(name)"
    var candidate = base
    var k = 1
    while taken.contains(candidate) {
      k += 1
      candidate = "\(base)_\(k)"
    }
    return candidate
  }

  /// The member tree with node names replaced per `rename` (names not in it are kept).
  static func renamed(_ members: [KerasArchitecture.Member], _ rename: [String: String])
    -> [KerasArchitecture.Member]
  {
    members.map { m in
      switch m {
      case .layer(var l):
        if l.className != "InputLayer" { l.name = rename[l.name] ?? l.name }
        return .layer(l)
      case .model(var n):
        n.members = renamed(n.members, rename)
        return .model(n)
      }
    }
  }
}
