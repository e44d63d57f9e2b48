import AdaNN
import AdaTensor
import Foundation

/// One weight as found in a file.
struct StoredWeight {
  /// Base name (`kernel`, `moving_mean`) when the file records names; nil for `vars/<i>`.
  var name: String?
  var tensor: Tensor
  /// HDF5 path, for errors.
  var location: String
}

/// Where a Keras file keeps each layer's weights.
protocol KerasWeightSource {
  /// The group holding `layer`'s weights (the layer at `index` in `model.layers` order) and the
  /// weights in it, or nil when the file has nothing for the layer.
  func weights(for layer: KerasArchitecture.Layer, index: Int) throws(AdaError)
    -> (group: String, weights: [StoredWeight])?
  /// Every group that holds at least one weight, for spotting weights that belong to no layer.
  func groupsWithWeights() throws(AdaError) -> [String]
}

/// Legacy `.h5`: `model_weights/<layer>` groups listing their datasets in the `weight_names`
/// attribute (`<model>/<layer>/kernel` in Keras 3, `<layer>/kernel:0` in Keras 2).
struct LegacyH5WeightSource: KerasWeightSource {
  let group: HDF5Group

  func weights(for layer: KerasArchitecture.Layer, index: Int) throws(AdaError)
    -> (group: String, weights: [StoredWeight])?
  {
    guard try group.kind(of: layer.name) == .group else { return nil }
    let layerGroup = try group.group(layer.name)
    let names = try layerGroup.readSplitStrings(attribute: "weight_names") ?? []
    var out: [StoredWeight] = []
    for stored in names {
      let location = layerGroup.absolute(stored)
      guard try layerGroup.kind(of: stored) == .dataset else {
        throw AdaError(
          .missing, file: group.file.path, path: location,
          "layer '\(layer.name)' lists weight '\(stored)' in weight_names, but the dataset is missing")
      }
      let tensor = try layerGroup.dataset(stored).readTensor()
      out.append(StoredWeight(name: KerasWeightNames.baseName(stored), tensor: tensor, location: location))
    }
    return (layerGroup.path, out)
  }

  func groupsWithWeights() throws(AdaError) -> [String] {
    var names = try group.readSplitStrings(attribute: "layer_names")
    if names == nil { names = try group.children(ofKind: .group) }
    var out: [String] = []
    for n in names ?? [] where try group.kind(of: n) == .group {
      let g = try group.group(n)
      if !(try g.readSplitStrings(attribute: "weight_names") ?? []).isEmpty { out.append(g.path) }
    }
    return out
  }
}

/// Keras 3 `.weights.h5` (also inside `.keras`): `layers/<snake_class>[_k]/vars/<i>`.
///
/// Keras names a layer's group after its class in snake case, numbering repeats in
/// `model.layers` order (`dense`, `dense_1`, …); newer files also store the layer's own name in
/// the `vars` group's `name` attribute. A layer is found by that name when present, else by the
/// class-and-position rule (what Keras itself uses when loading).
struct KerasV3WeightSource: KerasWeightSource {
  let root: HDF5Group
  /// vars-group path by the layer name recorded in it.
  private let byRecordedName: [String: String]
  /// vars-group path by position in `model.layers`.
  private let byPosition: [String]

  init(root: HDF5Group, modelLayers: [KerasArchitecture.Layer]) throws(AdaError) {
    self.root = root
    var recorded: [String: String] = [:]
    if try root.kind(of: "layers") == .group {
      for g in try root.group("layers").children(ofKind: .group) {
        let vars = "layers/\(g)/vars"
        guard try root.kind(of: vars) == .group else { continue }
        let group = try root.group(vars)
        if try group.hasAttribute("name"), let n = try? group.readString(attribute: "name") {
          recorded[n] = vars
        }
      }
    }
    byRecordedName = recorded
    var used: [String: Int] = [:]
    byPosition = modelLayers.map { layer in
      let base = kerasSnakeCase(layer.className)
      let k = used[base].map { $0 + 1 } ?? 0
      used[base] = k
      return "layers/\(k == 0 ? base : "\(base)_\(k)")/vars"
    }
  }

  func weights(for layer: KerasArchitecture.Layer, index: Int) throws(AdaError)
    -> (group: String, weights: [StoredWeight])?
  {
    let candidates = [byRecordedName[layer.name], index < byPosition.count ? byPosition[index] : nil]
    guard let vars = candidates.compactMap({ $0 }).first(where: { root.contains($0) }) else { return nil }
    let group = try root.group(vars)
    var out: [StoredWeight] = []
    for child in try group.children(ofKind: .dataset) {
      let dataset = try group.dataset(child)
      if try dataset.hasAttribute("dtype"), (try? dataset.readString(attribute: "dtype")) == "bfloat16" {
        throw AdaError(
          .unsupported, file: root.file.path, path: dataset.path,
          "weight is stored as bfloat16, which adascale does not read; save the model in float32")
      }
      out.append(StoredWeight(name: nil, tensor: try dataset.readTensor(), location: dataset.path))
    }
    return (group.path, out)
  }

  func groupsWithWeights() throws(AdaError) -> [String] {
    guard try root.kind(of: "layers") == .group else { return [] }
    var out: [String] = []
    for g in try root.group("layers").children(ofKind: .group) {
      let vars = "layers/\(g)/vars"
      guard try root.kind(of: vars) == .group else { continue }
      let group = try root.group(vars)
      if !(try group.children(ofKind: .dataset)).isEmpty { out.append(group.path) }
    }
    return out
  }
}

/// Keras's `naming.to_snake_case`: `Conv2D` → `conv2d`, `BatchNormalization` →
/// `batch_normalization`, `ReLU` → `re_lu`, `GlobalAveragePooling2D` → `global_average_pooling2d`.
func kerasSnakeCase(_ name: String) -> String {
  func sub(_ s: String, _ pattern: String, _ template: String) -> String {
    guard let re = try? NSRegularExpression(pattern: pattern) else { return s }
    return re.stringByReplacingMatches(
      in: s, range: NSRange(s.startIndex..., in: s), withTemplate: template)
  }
  var s = sub(name, "\\W+", "")
  s = sub(s, "(.)([A-Z][a-z]+)", "$1_$2")
  s = sub(s, "([a-z])([A-Z])", "$1_$2")
  return s.lowercased()
}
