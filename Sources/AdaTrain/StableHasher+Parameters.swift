import AdaCore
import AdaNN

extension StableHasher {
  /// Every tensor of a parameter store, in sorted key order, shapes included.
  public mutating func combine(_ parameters: Parameters) {
    for key in parameters.keys {
      let t = parameters.tensors[key]!
      combine(key)
      combine(json: t.shape)
      combine(t.scalars)
    }
  }
}
