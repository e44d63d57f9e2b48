import AdaNN
import AdaTensor
import XCTest

/// Finite-difference gradient check for one layer (style.md tolerances: central difference,
/// h = 1e-3, relative error < 1e-2 with denominator max(|a|, |b|, 1e-3)).
///
/// The scalar probed is `L = Σ y ⊙ R` for a fixed random `R`, so `dL/dy = R`. Every input and
/// every trainable parameter element is checked (keep shapes small).
public func checkGradients(
  _ layer: some Layer, inputs: [Tensor], params: [Tensor], training: Bool = false,
  h: Float = 1e-3, tolerance: Float = 1e-2, seed: UInt64 = 7,
  file: StaticString = #filePath, line: UInt = #line
) {
  var g = SeededGenerator(seed: seed)
  let specs = layer.parameters(for: inputs.map { Array($0.shape.dropFirst()) })
  func loss(_ xs: [Tensor], _ ps: [Tensor], _ r: Tensor) -> Double {
    var p = ps
    var ctx = ForwardContext(training: training, needsBackward: false, seed: seed)
    let (y, _) = layer.forward(xs, params: &p, context: &ctx)
    return zip(y.scalars, r.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
  }
  var p0 = params
  var ctx = ForwardContext(training: training, needsBackward: true, seed: seed)
  let (y, cache) = layer.forward(inputs, params: &p0, context: &ctx)
  let r = Tensor.uniform(y.shape, lo: -1, hi: 1, using: &g)
  var pgrads = params.map { Tensor(shape: $0.shape) }
  let gx = layer.backward(r, cache: cache, params: params, paramGrads: &pgrads)

  func compare(_ analytic: Float, _ numeric: Float, _ what: String) -> Bool {
    let denom = max(abs(analytic), abs(numeric), 1e-3)
    let rel = abs(analytic - numeric) / denom
    if !(rel < tolerance) {
      XCTFail(
        "\(type(of: layer)) \(what): analytic \(analytic) vs numeric \(numeric) (rel \(rel))",
        file: file, line: line)
      return false
    }
    return true
  }
  for (k, x) in inputs.enumerated() {
    for i in 0..<x.count {
      var plus = inputs
      plus[k].scalars[i] += h
      var minus = inputs
      minus[k].scalars[i] -= h
      let numeric = Float((loss(plus, params, r) - loss(minus, params, r)) / Double(2 * h))
      if !compare(gx[k].scalars[i], numeric, "d input\(k)[\(i)]") { return }
    }
  }
  for (k, p) in params.enumerated() where specs[k].trainable {
    for i in 0..<p.count {
      var plus = params
      plus[k].scalars[i] += h
      var minus = params
      minus[k].scalars[i] -= h
      let numeric = Float((loss(inputs, plus, r) - loss(inputs, minus, r)) / Double(2 * h))
      if !compare(pgrads[k].scalars[i], numeric, "d \(specs[k].name)[\(i)]") { return }
    }
  }
}

/// Runs a layer's forward in inference mode (helper for tests).
public func runForward(_ layer: some Layer, _ inputs: [Tensor], _ params: [Tensor]) -> Tensor {
  var p = params
  var ctx = ForwardContext.inference
  return layer.forward(inputs, params: &p, context: &ctx).0
}

/// Random parameters for a layer, shaped per its spec (normal, std 0.5; variances positive).
public func randomParameters(
  for layer: some Layer, inputShapes: [[Int]], seed: UInt64 = 1
) -> [Tensor] {
  var g = SeededGenerator(seed: seed)
  return layer.parameters(for: inputShapes).map { spec in
    var t = Tensor.normal(spec.shape, std: 0.5, using: &g)
    if spec.name.lowercased().contains("variance") { t = t.map { abs($0) + 0.5 } }
    return t
  }
}
