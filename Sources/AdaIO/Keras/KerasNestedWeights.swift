import AdaNN
import AdaTensor

/// Splits a nested model's legacy `.h5` weights among its layers.
///
/// Keras 3 (and 2) store a nested model in one `model_weights/<model>` group whose
/// `weight_names` list the variables of every inner layer (`inner/conv1/kernel`,
/// `inner/bn1/moving_mean`, …), in the order of the model's `trainable_weights +
/// non_trainable_weights`: depth first over its layers, first every trainable variable, then
/// every non-trainable one (moving statistics, and all variables of frozen layers, e.g. a base
/// model with `trainable = False`).
///
/// The layer is read from each name (the component before the weight name) when that identifies
/// every weight; otherwise the weights are dealt out in Keras's order, which is what Keras itself
/// does when loading, and each weight name must still match (`kernel` for a kernel).
enum KerasNestedWeights {
  static func split(_ stored: [StoredWeight], among leaves: [KerasArchitecture.Layer], file: String)
    throws(AdaError) -> [(KerasArchitecture.Layer, [StoredWeight])]
  {
    if let byName = splitByLayerName(stored, among: leaves) { return byName }
    return try splitByOrder(stored, among: leaves, file: file)
  }

  /// Each weight goes to the layer named in its path; nil when a name is missing, ambiguous or
  /// names no layer.
  static func splitByLayerName(_ stored: [StoredWeight], among leaves: [KerasArchitecture.Layer])
    -> [(KerasArchitecture.Layer, [StoredWeight])]?
  {
    let names = leaves.map(\.kerasName)
    guard Set(names).count == names.count else { return nil }
    var byLayer: [String: [StoredWeight]] = [:]
    for s in stored {
      let parts = (s.fullName ?? "").split(separator: "/").map(String.init)
      guard parts.count >= 2, names.contains(parts[parts.count - 2]) else { return nil }
      byLayer[parts[parts.count - 2], default: []].append(s)
    }
    return leaves.map { ($0, byLayer[$0.kerasName] ?? []) }
  }

  /// Keras's positional rule: trainable variables depth first, then non-trainable ones.
  static func splitByOrder(
    _ stored: [StoredWeight], among leaves: [KerasArchitecture.Layer], file: String
  ) throws(AdaError) -> [(KerasArchitecture.Layer, [StoredWeight])] {
    var slots: [(leaf: Int, weight: KerasWeight)] = []
    for trainablePass in [true, false] {
      for (i, leaf) in leaves.enumerated() where leaf.statistics == nil {
        for w in KerasWeightNames.weights(for: leaf.spec)
        where (leaf.trainable && w.trainable) == trainablePass {
          slots.append((i, w))
        }
      }
    }
    guard slots.count == stored.count else {
      let group = stored.first.map {
        String($0.location.split(separator: "/").dropLast().joined(separator: "/"))
      }
      throw AdaError(
        .invalidValue, file: file, path: group ?? leaves.first?.name,
        "nested model stores \(stored.count) weights, its layers need \(slots.count) "
          + "(\(leaves.filter { !KerasWeightNames.weights(for: $0.spec).isEmpty }.map(\.name).joined(separator: ", ")))"
      )
    }
    var out = leaves.map { ($0, [StoredWeight]()) }
    for (slot, s) in zip(slots, stored) {
      if let name = s.name, !slot.weight.matches(name) {
        throw AdaError(
          .invalidValue, file: file, path: s.location,
          "weight '\(s.fullName ?? name)' is where Keras keeps '\(leaves[slot.leaf].name)/\(slot.weight.kerasName)'"
        )
      }
      out[slot.leaf].1.append(s)
    }
    return out
  }
}
