import AdaNN
import AdaTensor

/// Stored Keras weights → adascale `Parameters` (`node/kernel`, `node/movingMean`, …).
///
/// Weights are matched by name when the file records names (legacy `.h5`), else by Keras order
/// (`.weights.h5` `vars/<i>`). Each weight is checked against what the layer config alone
/// implies (e.g. a Dense kernel's last dimension is `units`) and for NaN/Inf; errors name the
/// file and the HDF5 path or `layer/weight`. Input-dependent dimensions are checked afterwards
/// by `Model.validate()`.
enum KerasWeightMapping {
  static func parameters(
    architecture: KerasArchitecture, source: some KerasWeightSource, file: String
  ) throws(AdaError) -> Parameters {
    var parameters = Parameters()
    var served = Set<String>()
    for (index, layer) in architecture.modelLayerOrder.enumerated() {
      let expected = KerasWeightNames.weights(for: layer.spec)
      let found = try source.weights(for: layer, index: index)
      if let found { served.insert(found.group) }
      if expected.isEmpty {
        if let found, let first = found.weights.first {
          throw AdaError(
            .invalidValue, file: file, path: first.location,
            "layer '\(layer.name)' (\(layer.className)) has no weights, but the file stores \(found.weights.count)"
          )
        }
        continue
      }
      let stored = found?.weights ?? []
      for (weight, s) in try assign(stored, to: expected, layer: layer, file: file) {
        guard KerasWeightNames.agrees(s.tensor.shape, with: weight.knownShape) else {
          throw AdaError(
            .badShape, file: file, path: s.location,
            "layer '\(layer.name)' weight '\(weight.kerasName)' has shape \(s.tensor.shape), "
              + "expected \(KerasWeightNames.describe(weight.knownShape)) from the layer config")
        }
        if let bad = s.tensor.scalars.firstIndex(where: { !$0.isFinite }) {
          throw AdaError(
            .nonFinite, file: file, path: s.location,
            "layer '\(layer.name)' weight '\(weight.kerasName)' holds \(s.tensor.scalars[bad]) at "
              + "\(multiIndex(bad, shape: s.tensor.shape))")
        }
        parameters[layer.name, weight.internalName] = s.tensor
      }
    }
    if let orphan = try source.groupsWithWeights().first(where: { !served.contains($0) }) {
      throw AdaError(
        .invalidValue, file: file, path: orphan,
        "the file stores weights here that belong to no layer of the model")
    }
    return parameters
  }

  /// `[i, j, …]` of a row-major flat index.
  static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
      index[axis] = rest % shape[axis]
      rest /= shape[axis]
    }
    return index
  }

  /// Pairs each expected weight with a stored one; a missing one is `.missing` naming
  /// `layer/weight` and what the file holds instead.
  private static func assign(
    _ stored: [StoredWeight], to expected: [KerasWeight], layer: KerasArchitecture.Layer, file: String
  ) throws(AdaError) -> [(KerasWeight, StoredWeight)] {
    let names = stored.compactMap(\.name)
    let byName =
      names.count == stored.count && Set(names).count == names.count
      && names.allSatisfy { n in expected.contains { $0.matches(n) } }
    var pairs: [(KerasWeight, StoredWeight)] = []
    for (i, weight) in expected.enumerated() {
      let match = byName ? stored.first { weight.matches($0.name!) } : (i < stored.count ? stored[i] : nil)
      guard let match else {
        let have = stored.isEmpty ? "none" : stored.map { $0.name ?? $0.location }.joined(separator: ", ")
        throw AdaError(
          .missing, file: file, path: "\(layer.name)/\(weight.internalName)",
          "layer '\(layer.name)' (\(layer.className)) is missing weight '\(weight.kerasName)' "
            + "(expected shape \(KerasWeightNames.describe(weight.knownShape))); the file has: \(have)")
      }
      pairs.append((weight, match))
    }
    if stored.count > expected.count {
      let extra =
        byName ? stored.first { s in !expected.contains { $0.matches(s.name!) } } : stored[expected.count]
      throw AdaError(
        .invalidValue, file: file, path: extra?.location ?? layer.name,
        "layer '\(layer.name)' (\(layer.className)) stores \(stored.count) weights, expected "
          + "\(expected.count) (\(expected.map(\.kerasName).joined(separator: ", ")))")
    }
    return pairs
  }
}
