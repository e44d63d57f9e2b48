import AdaTensor
import Foundation

@testable import AdaONNX

/// A plain-loop interpreter of the ONNX operators the exporter writes, following the ONNX
/// operator specification (not adascale's layers): the tests run an exported `ModelProto` with
/// it and compare with onnxruntime's committed outputs and with `Executor`. Slow and simple on
/// purpose — every kernel is a loop over output indices. Booleans are Floats 0/1; int8 and
/// int64 initialisers are held as Floats (exact for the values involved).
struct ONNXReferenceEvaluator {
  let model: Onnx_ModelProto

  enum Failure: Error, CustomStringConvertible {
    case unsupported(String)
    var description: String {
      switch self {
      case .unsupported(let s): "ONNXReferenceEvaluator: \(s)"
      }
    }
  }

  /// Outputs in graph-output order for the one graph input `x`.
  func run(_ x: Tensor) throws -> [Tensor] {
    var values: [String: Tensor] = [:]
    for t in model.graph.initializer { values[t.name] = try Self.tensor(t) }
    values[model.graph.input[0].name] = x
    for node in model.graph.node {
      let inputs = node.input.map { $0.isEmpty ? nil : values[$0] }
      values[node.output[0]] = try evaluate(node, inputs)
    }
    return model.graph.output.map { values[$0.name]! }
  }

  static func tensor(_ t: Onnx_TensorProto) throws -> Tensor {
    let dims = t.dims.map(Int.init)
    let raw = t.rawData
    let scalars: [Float]
    switch t.dataType {
    case 1: scalars = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    case 3: scalars = raw.map { Float(Int8(bitPattern: $0)) }
    case 7: scalars = raw.withUnsafeBytes { $0.bindMemory(to: Int64.self).map { Float($0) } }
    default: throw Failure.unsupported("initialiser \(t.name) of data type \(t.dataType)")
    }
    return Tensor(shape: dims, scalars: scalars)
  }

  func evaluate(_ node: Onnx_NodeProto, _ inputs: [Tensor?]) throws -> Tensor {
    let a = Attributes(node.attribute)
    let x = inputs[0]!
    switch node.opType {
    case "Identity": return x
    case "Relu": return x.map { max($0, 0) }
    case "Sigmoid": return x.map { 1 / (1 + exp(-$0)) }
    case "Tanh": return x.map { tanh($0) }
    case "Softplus": return x.map { log(1 + exp($0)) }
    case "Erf": return x.map { erf($0) }
    case "Elu":
      let alpha = a.float("alpha", 1)
      return x.map { $0 >= 0 ? $0 : alpha * (exp($0) - 1) }
    case "LeakyRelu":
      let alpha = a.float("alpha", 0.01)
      return x.map { $0 >= 0 ? $0 : alpha * $0 }
    case "HardSigmoid":
      let (alpha, beta) = (a.float("alpha", 0.2), a.float("beta", 0.5))
      return x.map { max(0, min(1, alpha * $0 + beta)) }
    case "HardSwish": return x.map { $0 * max(0, min(1, $0 / 6 + 0.5)) }
    case "Clip":
      let lo = inputs.count > 1 ? inputs[1]?.scalars[0] ?? -.infinity : -.infinity
      let hi = inputs.count > 2 ? inputs[2]?.scalars[0] ?? .infinity : .infinity
      return x.map { min(max($0, lo), hi) }
    case "Add": return Self.broadcast(x, inputs[1]!, +)
    case "Sub": return Self.broadcast(x, inputs[1]!, -)
    case "Mul": return Self.broadcast(x, inputs[1]!, *)
    case "Div": return Self.broadcast(x, inputs[1]!, /)
    case "Min": return Self.broadcast(x, inputs[1]!, { min($0, $1) })
    case "Greater": return Self.broadcast(x, inputs[1]!, { $0 > $1 ? 1 : 0 })
    case "GreaterOrEqual": return Self.broadcast(x, inputs[1]!, { $0 >= $1 ? 1 : 0 })
    case "Where": return Self.broadcast([x, inputs[1]!, inputs[2]!]) { $0[0] != 0 ? $0[1] : $0[2] }
    case "Softmax": return Self.softmax(x, axis: a.int("axis", -1))
    case "Transpose": return Self.transpose(x, perm: a.ints("perm"))
    case "Flatten":
      let axis = a.int("axis", 1)
      let outer = x.shape[..<axis].reduce(1, *)
      return Tensor(shape: [outer, x.count / max(outer, 1)], scalars: x.scalars)
    case "Reshape":
      var shape = inputs[1]!.scalars.map { Int($0) }
      for (i, d) in shape.enumerated() where d == 0 { shape[i] = x.shape[i] }
      if let m = shape.firstIndex(of: -1) { shape[m] = x.count / shape.filter { $0 != -1 }.reduce(1, *) }
      return Tensor(shape: shape, scalars: x.scalars)
    case "Concat": return Self.concat(inputs.map { $0! }, axis: a.int("axis", 0))
    case "Pad": return try Self.pad(x, inputs)
    case "DequantizeLinear":
      return Self.dequantize(x, scale: inputs[1]!, zero: inputs[2], axis: a.int("axis", 1))
    case "Gemm":
      var y = Self.matmul(x, inputs[1]!)
      if inputs.count > 2, let c = inputs[2] { y = Self.broadcast(y, c, +) }
      return y
    case "MatMul": return Self.matmul(x, inputs[1]!)
    case "Conv": return Self.conv(x, inputs[1]!, inputs.count > 2 ? inputs[2] : nil, a)
    case "MaxPool", "AveragePool": return Self.pool(x, a, max: node.opType == "MaxPool")
    case "GlobalAveragePool", "GlobalMaxPool":
      let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
      var out = [Float](repeating: 0, count: n * c)
      for i in 0..<(n * c) {
        let window = x.scalars[(i * hw)..<((i + 1) * hw)]
        out[i] = node.opType == "GlobalMaxPool" ? window.max()! : window.reduce(0, +) / Float(hw)
      }
      return Tensor(shape: [n, c, 1, 1], scalars: out)
    default: throw Failure.unsupported("operator \(node.opType)")
    }
  }

  // MARK: Kernels

  static func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] }
    return s
  }

  /// Numpy broadcasting: shapes aligned at the last axis.
  static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    broadcast([a, b]) { f($0[0], $0[1]) }
  }

  static func broadcast(_ xs: [Tensor], _ f: ([Float]) -> Float) -> Tensor {
    let rank = xs.map(\.rank).max()!
    let shapes = xs.map { [Int](repeating: 1, count: rank - $0.rank) + $0.shape }
    let shape = (0..<rank).map { d in shapes.map { $0[d] }.max()! }
    let from = shapes.map(strides)
    let to = strides(shape)
    let count = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count)
    var args = [Float](repeating: 0, count: xs.count)
    for i in 0..<count {
      for (k, x) in xs.enumerated() {
        var (src, r) = (0, i)
        for d in 0..<rank {
          if shapes[k][d] != 1 { src += (r / to[d]) * from[k][d] }
          r %= to[d]
        }
        args[k] = x.scalars[src]
      }
      out[i] = f(args)
    }
    return Tensor(shape: shape, scalars: out)
  }

  static func transpose(_ x: Tensor, perm: [Int]) -> Tensor {
    let shape = perm.map { x.shape[$0] }
    let (from, to) = (strides(x.shape), strides(shape))
    var out = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      var (src, r) = (0, i)
      for d in 0..<shape.count {
        src += (r / to[d]) * from[perm[d]]
        r %= to[d]
      }
      out[i] = x.scalars[src]
    }
    return Tensor(shape: shape, scalars: out)
  }

  static func softmax(_ x: Tensor, axis: Int) -> Tensor {
    let axis = axis < 0 ? axis + x.rank : axis
    let s = strides(x.shape)
    var out = x.scalars
    for i in 0..<x.count where (i / s[axis]) % x.shape[axis] == 0 {
      let idx = (0..<x.shape[axis]).map { i + $0 * s[axis] }
      let m = idx.map { x.scalars[$0] }.max()!
      let e = idx.map { exp(x.scalars[$0] - m) }
      let sum = e.reduce(0, +)
      for (k, j) in idx.enumerated() { out[j] = e[k] / sum }
    }
    return Tensor(shape: x.shape, scalars: out)
  }

  static func concat(_ xs: [Tensor], axis: Int) -> Tensor {
    let axis = axis < 0 ? axis + xs[0].rank : axis
    let outer = xs[0].shape[..<axis].reduce(1, *)
    var out: [Float] = []
    for o in 0..<outer {
      for x in xs {
        let block = x.shape[axis...].reduce(1, *)
        out += x.scalars[(o * block)..<((o + 1) * block)]
      }
    }
    var shape = xs[0].shape
    shape[axis] = xs.map { $0.shape[axis] }.reduce(0, +)
    return Tensor(shape: shape, scalars: out)
  }

  static func pad(_ x: Tensor, _ inputs: [Tensor?]) throws -> Tensor {
    let pads = inputs[1]!.scalars.map { Int($0) }
    let value = inputs.count > 2 ? inputs[2]?.scalars.first ?? 0 : 0
    let axes = inputs.count > 3 ? inputs[3]!.scalars.map { Int($0) } : Array(0..<x.rank)
    var before = [Int](repeating: 0, count: x.rank)
    var after = before
    for (k, axis) in axes.enumerated() {
      before[axis] = pads[k]
      after[axis] = pads[k + axes.count]
    }
    let shape = (0..<x.rank).map { x.shape[$0] + before[$0] + after[$0] }
    let (from, to) = (strides(x.shape), strides(shape))
    var out = [Float](repeating: value, count: shape.reduce(1, *))
    for i in 0..<x.count {
      var (dst, r) = (0, i)
      for d in 0..<x.rank {
        dst += (r / from[d] + before[d]) * to[d]
        r %= from[d]
      }
      out[dst] = x.scalars[i]
    }
    return Tensor(shape: shape, scalars: out)
  }

  static func dequantize(_ q: Tensor, scale: Tensor, zero: Tensor?, axis: Int) -> Tensor {
    let s = strides(q.shape)
    var out = q.scalars
    for i in 0..<q.count {
      let c = scale.count == 1 ? 0 : (i / s[axis]) % q.shape[axis]
      out[i] = (q.scalars[i] - (zero?.scalars[c] ?? 0)) * scale.scalars[c]
    }
    return Tensor(shape: q.shape, scalars: out)
  }

  /// `[..., K] × [K, N]`, accumulated in Double.
  static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (k, n) = (b.shape[0], b.shape[1])
    let rows = a.count / k
    var out = [Float](repeating: 0, count: rows * n)
    for r in 0..<rows {
      for j in 0..<n {
        var acc = 0.0
        for i in 0..<k { acc += Double(a.scalars[r * k + i]) * Double(b.scalars[i * n + j]) }
        out[r * n + j] = Float(acc)
      }
    }
    return Tensor(shape: Array(a.shape.dropLast()) + [n], scalars: out)
  }

  /// NCHW convolution with groups, pads `[top, left, bottom, right]`, strides and dilations.
  static func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ a: Attributes) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let group = a.int("group", 1)
    let st = a.ints("strides", [1, 1])
    let dl = a.ints("dilations", [1, 1])
    let p = a.ints("pads", [0, 0, 0, 0])
    let oh = (h + p[0] + p[2] - dl[0] * (kh - 1) - 1) / st[0] + 1
    let ow = (wd + p[1] + p[3] - dl[1] * (kw - 1) - 1) / st[1] + 1
    precondition(cg * group == c, "conv: \(cg) × \(group) groups ≠ \(c) channels")
    var out = [Float](repeating: 0, count: n * m * oh * ow)
    for bi in 0..<n {
      for o in 0..<m {
        let g = o / (m / group)
        for y in 0..<oh {
          for xo in 0..<ow {
            var acc = Double(b?.scalars[o] ?? 0)
            for ci in 0..<cg {
              for i in 0..<kh {
                let iy = y * st[0] - p[0] + i * dl[0]
                guard iy >= 0 && iy < h else { continue }
                for j in 0..<kw {
                  let ix = xo * st[1] - p[1] + j * dl[1]
                  guard ix >= 0 && ix < wd else { continue }
                  let xv = x.scalars[((bi * c + g * cg + ci) * h + iy) * wd + ix]
                  acc += Double(xv) * Double(w.scalars[((o * cg + ci) * kh + i) * kw + j])
                }
              }
            }
            out[((bi * m + o) * oh + y) * ow + xo] = Float(acc)
          }
        }
      }
    }
    return Tensor(shape: [n, m, oh, ow], scalars: out)
  }

  /// MaxPool (padding never wins) and AveragePool (`count_include_pad` 0 divides by the real
  /// elements in the window).
  static func pool(_ x: Tensor, _ a: Attributes, max isMax: Bool) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let k = a.ints("kernel_shape")
    let st = a.ints("strides", [1, 1])
    let p = a.ints("pads", [0, 0, 0, 0])
    let includePad = a.int("count_include_pad", 0) != 0
    let oh = (h + p[0] + p[2] - k[0]) / st[0] + 1
    let ow = (wd + p[1] + p[3] - k[1]) / st[1] + 1
    var out = [Float](repeating: 0, count: n * c * oh * ow)
    for plane in 0..<(n * c) {
      for y in 0..<oh {
        for xo in 0..<ow {
          var (best, sum, count) = (-Float.infinity, 0.0, 0)
          for i in 0..<k[0] {
            for j in 0..<k[1] {
              let (iy, ix) = (y * st[0] - p[0] + i, xo * st[1] - p[1] + j)
              guard iy >= 0 && iy < h && ix >= 0 && ix < wd else { continue }
              let v = x.scalars[(plane * h + iy) * wd + ix]
              best = Swift.max(best, v)
              sum += Double(v)
              count += 1
            }
          }
          let divisor = includePad ? k[0] * k[1] : count
          out[(plane * oh + y) * ow + xo] = isMax ? best : Float(sum / Double(divisor))
        }
      }
    }
    return Tensor(shape: [n, c, oh, ow], scalars: out)
  }
}

/// A node's attributes by name, with ONNX's defaults supplied by the caller.
struct Attributes {
  var byName: [String: Onnx_AttributeProto] = [:]
  init(_ list: [Onnx_AttributeProto]) { for a in list { byName[a.name] = a } }
  func int(_ name: String, _ fallback: Int) -> Int { byName[name].map { Int($0.i) } ?? fallback }
  func float(_ name: String, _ fallback: Float) -> Float { byName[name]?.f ?? fallback }
  func ints(_ name: String, _ fallback: [Int] = []) -> [Int] {
    byName[name].map { $0.ints.map(Int.init) } ?? fallback
  }
}

extension Tensor {
  func map(_ f: (Float) -> Float) -> Tensor { Tensor(shape: shape, scalars: scalars.map(f)) }
}
