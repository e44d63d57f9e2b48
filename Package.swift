// swift-tools-version:6.0
import PackageDescription

// Targets follow docs/architecture.md: dependencies point downward only.
// C libraries sit behind tiny shim targets (CHDF5, COpenBLAS, CZlib) and nowhere else.
let package = Package(
  name: "adascale",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "adascale", targets: ["adascale"]),
    .library(name: "AdaTensor", targets: ["AdaTensor"]),
    .library(name: "AdaNN", targets: ["AdaNN"]),
    .library(name: "AdaIO", targets: ["AdaIO"]),
    .library(name: "AdaTrain", targets: ["AdaTrain"]),
    .library(name: "AdaCompress", targets: ["AdaCompress"]),
    .library(name: "AdaProfile", targets: ["AdaProfile"]),
    .library(name: "AdaSearch", targets: ["AdaSearch"]),
    .library(name: "AdaRecipe", targets: ["AdaRecipe"]),
    .library(name: "AdaBundle", targets: ["AdaBundle"]),
    .library(name: "AdaPipeline", targets: ["AdaPipeline"]),
    .library(name: "AdaRuntime", targets: ["AdaRuntime"]),
    .library(name: "AdaDistributed", targets: ["AdaDistributed"]),
    .library(name: "AdaONNX", targets: ["AdaONNX"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CGzip", providers: [.apt(["zlib1g-dev"])]),

    .target(name: "AdaTensor", dependencies: ["COpenBLAS"]),
    .target(name: "AdaNN", dependencies: ["AdaTensor"]),
    .target(name: "AdaTrain", dependencies: ["AdaTensor", "AdaNN"]),
    .target(name: "AdaCompress", dependencies: ["AdaTensor", "AdaNN", "AdaTrain"]),
    .target(name: "AdaProfile", dependencies: ["AdaTensor", "AdaNN", "AdaIO", "Yams"]),
    .target(name: "AdaSearch", dependencies: ["AdaTensor", "AdaIO"]),
    .target(
      name: "AdaRecipe",
      dependencies: [
        "AdaTensor", "AdaNN", "AdaIO", "AdaTrain", "AdaCompress", "AdaProfile", "AdaSearch", "AdaBundle",
      ]),
    .target(
      name: "AdaBundle",
      dependencies: ["AdaTensor", "AdaNN", "AdaIO", "AdaCompress", "AdaProfile", "AdaSearch", "AdaONNX"]),
    .target(
      name: "AdaPipeline",
      dependencies: [
        "AdaTensor", "AdaNN", "AdaIO", "AdaTrain", "AdaCompress", "AdaProfile", "AdaSearch", "AdaRecipe",
        "AdaBundle",
      ]),
    .target(name: "AdaRuntime", dependencies: ["AdaTensor", "AdaNN", "AdaIO", "AdaProfile", "AdaBundle"]),
    .target(
      name: "AdaDistributed",
      dependencies: [
        "AdaTensor", "AdaNN", "AdaIO", "AdaProfile", "AdaBundle", "CGzip",
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .target(
      name: "AdaONNX",
      dependencies: [
        "AdaTensor", "AdaNN", "AdaIO", "AdaCompress",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]),
    .target(
      name: "AdaIO",
      dependencies: ["AdaTensor", "AdaNN", "CHDF5", "CGzip", "ZIPFoundation", "Yams"]),
    .executableTarget(
      name: "AdaBench",
      dependencies: ["AdaTensor", "AdaNN", "AdaIO", "AdaTrain"]),
    .executableTarget(
      name: "adascale",
      dependencies: [
        "AdaTensor", "AdaNN", "AdaIO", "AdaTrain", "AdaCompress", "AdaProfile", "AdaSearch", "AdaRecipe",
        "AdaBundle", "AdaPipeline", "AdaRuntime", "AdaDistributed", "AdaONNX",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    .target(
      name: "TestSupport", dependencies: ["AdaTensor", "AdaNN"], path: "Tests/TestSupport"),
    .testTarget(name: "AdaTensorTests", dependencies: ["AdaTensor", "TestSupport"]),
    .testTarget(name: "AdaNNTests", dependencies: ["AdaNN", "AdaTensor", "TestSupport"]),
    .testTarget(name: "AdaIOTests", dependencies: ["AdaIO", "AdaNN", "AdaTensor", "TestSupport"]),
    .testTarget(name: "AdaTrainTests", dependencies: ["AdaTrain", "AdaNN", "AdaTensor", "TestSupport"]),
    .testTarget(name: "AdaCompressTests", dependencies: ["AdaCompress", "AdaIO", "AdaTrain", "TestSupport"]),
    .testTarget(name: "AdaProfileTests", dependencies: ["AdaProfile", "AdaIO", "TestSupport"]),
    .testTarget(name: "AdaSearchTests", dependencies: ["AdaSearch", "AdaTensor", "TestSupport"]),
    .testTarget(
      name: "AdaRecipeTests", dependencies: ["AdaRecipe", "AdaIO", "AdaCompress", "AdaTensor", "TestSupport"]),
    .testTarget(
      name: "AdaBundleTests",
      dependencies: [
        "AdaBundle", "AdaCompress", "AdaIO", "AdaNN", "AdaONNX", "AdaProfile", "AdaTensor", "TestSupport",
      ]),
    .testTarget(
      name: "AdaPipelineTests",
      dependencies: [
        "AdaPipeline", "AdaCompress", "AdaSearch", "AdaRecipe", "AdaBundle", "AdaIO", "AdaNN", "AdaTensor",
        "AdaTrain", "TestSupport",
      ]),
    .testTarget(
      name: "AdaRuntimeTests",
      dependencies: ["AdaRuntime", "AdaBundle", "AdaProfile", "AdaNN", "AdaTensor", "TestSupport"]),
    .testTarget(
      name: "AdaDistributedTests",
      dependencies: [
        "AdaDistributed", "AdaBundle", "AdaCompress", "AdaProfile", "AdaNN", "AdaTensor", "AdaIO",
        "TestSupport",
      ]),
    .testTarget(
      name: "AdaONNXTests",
      dependencies: ["AdaONNX", "AdaCompress", "AdaIO", "AdaNN", "AdaTensor", "TestSupport"]),
    .testTarget(
      name: "adascaleTests",
      dependencies: ["adascale", "AdaCompress", "AdaIO", "AdaNN", "AdaTensor", "AdaTrain", "TestSupport"]),
  ]
)
