import AdaCompress
import AdaProfile
import AdaRecipe
import AdaTensor

extension ExitStage {
  /// Gives the variants `spec.variants` selects their exit heads and calibrated operating points
  /// (each resumable from the work directory); returns how many got exits.
  static func addExits(
    _ spec: Recipe.ExitsSpec, to emitted: inout [EmitStage.Emitted], supernet: Supernet, data: PipelineData,
    recipeFile: String, profiling: ProfileOptions, work: WorkDirectory, log: PipelineLog
  ) throws(AdaError) -> Int {
    let ids = try selected(spec.variants, from: emitted.map(\.entry), recipeFile: recipeFile)
    log.stage("exits: heads, training and calibration for \(ids.count) of \(emitted.count) variants")
    let stage = ExitStage(spec: spec, recipeFile: recipeFile, profiling: profiling, log: log)
    for (i, e) in emitted.enumerated() where ids.contains(e.entry.id) {
      let config = e.entry.genome
      let input = Input(
        id: e.entry.id, model: e.payload.model, bits: e.payload.quantized.bitsByNode,
        blocks: blocks(of: supernet, config: config, variant: e.payload.model.graph),
        train: try supernet.inputs(data.train, for: config),
        validation: try supernet.inputs(data.validation, for: config),
        test: try supernet.inputs(data.test, for: config))
      let out = try stage.runResuming(input, quantized: e.payload.quantized, work: work)
      emitted[i].entry.exits = out.plan
      emitted[i].payload.exitModel = out.model
      emitted[i].payload.exitQuantized = out.model == nil ? [:] : e.payload.quantized
    }
    return ids.count
  }
}
