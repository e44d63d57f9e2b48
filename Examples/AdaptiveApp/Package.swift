// swift-tools-version:6.0
import PackageDescription

// An app that runs an adascale bundle. It depends on the `AdaRuntime` product alone, which
// brings the runtime's chain only: AdaRuntime, AdaBundle, AdaProfile, AdaIO, AdaCore, AdaNN,
// AdaTensor, swift-crypto, and the system HDF5 and OpenBLAS — no training, compression, recipe,
// YAML or zip code. `swift build` here compiles exactly those (CI checks it: make example-app).
let package = Package(
  name: "AdaptiveApp",
  // As the runtime: Linux (x86_64, aarch64) and macOS 14+, with HDF5 and OpenBLAS installed.
  platforms: [.macOS(.v14)],
  dependencies: [.package(name: "adascale", path: "../..")],
  targets: [
    .executableTarget(
      name: "AdaptiveApp", dependencies: [.product(name: "AdaRuntime", package: "adascale")])
  ]
)
