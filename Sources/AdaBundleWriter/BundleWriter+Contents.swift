import AdaBundle
import AdaIO
import AdaNN
import AdaProfile

/// Everything a bundle directory holds, in memory: what `BundleWriter.write` takes.
public struct BundleContents: Sendable {
  public var manifest: Manifest
  /// One payload per manifest variant, same ids (order free).
  public var variants: [VariantPayload]
  public var lut: LookupTable
  /// The per-op table, written as `ops-lut.json` when present.
  public var opsTable: OpTable?
  public var report: ReportData
  /// Formats each variant is written in (recipe `output.formats`); must include `keras`.
  public var formats: [ModelFileFormat]

  public init(
    manifest: Manifest, variants: [VariantPayload], lut: LookupTable, opsTable: OpTable? = nil,
    report: ReportData, formats: [ModelFileFormat] = [.keras, .onnx]
  ) {
    self.formats = formats
    self.manifest = manifest
    self.variants = variants
    self.lut = lut
    self.opsTable = opsTable
    self.report = report
  }

  /// The payload with `id`, if any.
  public func payload(id: String) -> VariantPayload? { variants.first { $0.id == id } }
}

/// The weights of one emitted variant: the model written to `variants/<id>.h5`, and the
/// integers and scales of its quantized weights (empty when none are quantized). The model's
/// float weights must be exactly the dequantized integers (`KerasModelWriter` checks).
public struct VariantPayload: Sendable {
  /// Manifest variant id, e.g. `v03`.
  public var id: String
  public var model: Model
  public var quantized: QuantizedWeights
  /// The variant with its exit heads (outputs: exits in depth order, its own output last),
  /// written to the manifest variant's `exits.file`; nil without exits.
  public var exitModel: Model?
  /// Quantized weights of `exitModel` (the backbone's, as in `quantized`).
  public var exitQuantized: QuantizedWeights

  public init(
    id: String, model: Model, quantized: QuantizedWeights = [:], exitModel: Model? = nil,
    exitQuantized: QuantizedWeights = [:]
  ) {
    self.id = id
    self.model = model
    self.quantized = quantized
    self.exitModel = exitModel
    self.exitQuantized = exitQuantized
  }
}
