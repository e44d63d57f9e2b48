import AdaBundle
import AdaRuntime
import AdaTensor
import Foundation

// What an app does with a bundle: open it, let the runtime pick a variant for the device's state
// on every request, and run it.
//
//     swift run AdaptiveApp ../../bundles/fmnist --slo-ms 1 --requests 200
let usage = "usage: AdaptiveApp BUNDLE [--slo-ms MS] [--requests N]"
var arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, in arguments: inout [String]) -> Double? {
  guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
  defer { arguments.removeSubrange(i...(i + 1)) }
  return Double(arguments[i + 1])
}
let slo = option("--slo-ms", in: &arguments)
let requests = Int(option("--requests", in: &arguments) ?? 100)
guard arguments.count == 1, requests > 0 else {
  FileHandle.standardError.write(Data((usage + "\n").utf8))
  exit(2)
}

do {
  let model = try AdaptiveModel(bundle: arguments[0], policy: Policy(sloMs: slo))
  let manifest = model.bundle.manifest
  let shape = manifest.preprocessing?.inputShape ?? manifest.variants.first?.inputShape ?? []
  guard !shape.isEmpty else {
    throw AdaError(.missing, file: arguments[0], path: "manifest.json", "the manifest gives no input shape")
  }
  // Stand-in camera frames: uniform pixels in [0, 1); a real app preprocesses its images as
  // `manifest.preprocessing` says.
  var rng = SeededGenerator(seed: 1)
  var counts: [String: Int] = [:]
  var totalMs = 0.0
  for request in 1...requests {
    let pixels = (0..<shape.reduce(1, *)).map { _ in Float.random(in: 0..<1, using: &rng) }
    let x = Tensor(shape: [1] + shape, scalars: pixels)
    let r = try model.predict(x)
    counts[r.decision.variant, default: 0] += 1
    totalMs += r.measuredLatencyMs
    if r.decision.switched || request == 1 {
      print("request \(request): \(r.decision.variant) (\(r.decision.reason))")
    }
  }
  let used = counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
  let mean = String(format: "%.3f", totalMs / Double(requests))
  print("\(requests) requests, mean \(mean) ms; variants: \(used)")
} catch let error as AdaError {
  FileHandle.standardError.write(Data("AdaptiveApp: \(error)\n".utf8))
  exit(1)
}
