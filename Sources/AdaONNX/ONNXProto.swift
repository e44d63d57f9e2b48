import Foundation

/// Small constructors for the generated protobuf types (`onnx.pb.swift`), so the graph
/// builder reads as a list of operators.
enum ONNXProto {
  /// Element types of `TensorProto.data_type` that the exporter writes.
  enum ElementType: Int32 {
    case float = 1
    case int8 = 3
    case int64 = 7
  }

  static func tensor(_ name: String, floats: [Float], dims: [Int]) -> Onnx_TensorProto {
    precondition(floats.count == dims.reduce(1, *), "ONNXProto.tensor: \(floats.count) floats for \(dims)")
    return tensor(name, type: .float, dims: dims, raw: floats.withUnsafeBytes { Data($0) })
  }

  static func tensor(_ name: String, int8s: [Int8], dims: [Int]) -> Onnx_TensorProto {
    precondition(int8s.count == dims.reduce(1, *), "ONNXProto.tensor: \(int8s.count) int8s for \(dims)")
    return tensor(name, type: .int8, dims: dims, raw: int8s.withUnsafeBytes { Data($0) })
  }

  static func tensor(_ name: String, int64s: [Int64], dims: [Int]) -> Onnx_TensorProto {
    precondition(int64s.count == dims.reduce(1, *), "ONNXProto.tensor: \(int64s.count) int64s for \(dims)")
    return tensor(name, type: .int64, dims: dims, raw: int64s.withUnsafeBytes { Data($0) })
  }

  /// `raw_data` is little-endian, as ONNX requires (every platform adascale runs on is).
  private static func tensor(_ name: String, type: ElementType, dims: [Int], raw: Data) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = type.rawValue
    t.dims = dims.map(Int64.init)
    t.rawData = raw
    return t
  }

  /// A float tensor's `ValueInfoProto`; a dimension of −1 becomes the symbolic `N` (the batch).
  static func valueInfo(_ name: String, dims: [Int]) -> Onnx_ValueInfoProto {
    var shape = Onnx_TensorShapeProto()
    shape.dim = dims.map { d in
      var dim = Onnx_TensorShapeProto.Dimension()
      if d < 0 { dim.dimParam = "N" } else { dim.dimValue = Int64(d) }
      return dim
    }
    var tensorType = Onnx_TypeProto.Tensor()
    tensorType.elemType = ElementType.float.rawValue
    tensorType.shape = shape
    var type = Onnx_TypeProto()
    type.tensorType = tensorType
    var info = Onnx_ValueInfoProto()
    info.name = name
    info.type = type
    return info
  }

  static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(int)
    return a
  }

  static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints.map(Int64.init)
    return a
  }

  static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = float
    return a
  }
}
