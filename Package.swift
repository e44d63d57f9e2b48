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
    .library(name: "AdaCore", targets: ["AdaCore"]),
    .library(name: "AdaNN", targets: ["AdaNN"]),
    .library(name: "AdaIO", targets: ["AdaIO"]),
    .library(name: "AdaFormats", targets: ["AdaFormats"]),
    .library(name: "AdaTrain", targets: ["AdaTrain"]),
    .library(name: "AdaCompress", targets: ["AdaCompress"]),
    .library(name: "AdaProfile", targets: ["AdaProfile"]),
    .library(name: "AdaSearch", targets: ["AdaSearch"]),
    .library(name: "AdaRecipe", targets: ["AdaRecipe"]),
    .library(name: "AdaBundle", targets: ["AdaBundle"]),
    .library(name: "AdaBundleWriter", targets: ["AdaBundleWriter"]),
    .library(name: "AdaPipeline", targets: ["AdaPipeline"]),
    // What an app links to run a bundle (Examples/AdaptiveApp): the runtime and the types its API
    // shares. Its dependency chain has no training, compression, recipe, YAML or zip code.
    .library(name: "AdaRuntime", targets: ["AdaRuntime", "AdaBundle", "AdaProfile", "AdaTensor"]),
    .library(name: "AdaDistributed", targets: ["AdaDistributed"]),
    .library(name: "AdaONNX", targets: ["AdaONNX"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
  ],
  targets: [
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CGzip", providers: [.apt(["zlib1g-dev"])]),

    .target(name: "AdaTensor", dependencies: ["COpenBLAS"]),
    .target(name: "AdaCore", dependencies: ["AdaTensor", .product(name: "Crypto", package: "swift-crypto")]),
    .target(name: "AdaNN", dependencies: ["AdaTensor"]),
    .target(name: "AdaIO", dependencies: ["AdaTensor", "AdaCore", "AdaNN", "CHDF5"]),
    .target(name: "AdaProfile", dependencies: ["AdaTensor", "AdaCore", "AdaNN", "AdaIO"]),
    .target(
      name: "AdaFormats",
      dependencies: [
        "AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaProfile", "CGzip", "ZIPFoundation", "Yams",
      ]),
    .target(name: "AdaTrain", dependencies: ["AdaTensor", "AdaCore", "AdaNN"]),
    .target(name: "AdaCompress", dependencies: ["AdaTensor", "AdaCore", "AdaNN", "AdaTrain"]),
    .target(name: "AdaSearch", dependencies: ["AdaTensor", "AdaCore"]),
    .target(name: "AdaBundle", dependencies: ["AdaTensor", "AdaNN", "AdaIO", "AdaProfile"]),
    .target(
      name: "AdaONNX",
      dependencies: [
        "AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaCompress",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]),
    .target(
      name: "AdaBundleWriter",
      dependencies: [
        "AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaCompress", "AdaProfile", "AdaSearch", "AdaONNX",
        "AdaBundle",
      ]),
    .target(
      name: "AdaRecipe",
      dependencies: [
        "AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaFormats", "AdaTrain", "AdaCompress", "AdaProfile",
        "AdaSearch", "AdaBundle", "AdaBundleWriter",
      ]),
    .target(
      name: "AdaPipeline",
      dependencies: [
        "AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaFormats", "AdaTrain", "AdaCompress", "AdaProfile",
        "AdaSearch", "AdaRecipe", "AdaBundle", "AdaBundleWriter",
      ]),
    .target(
      name: "AdaRuntime", dependencies: ["AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaProfile", "AdaBundle"]),
    .target(
      name: "AdaDistributed",
      dependencies: [
        "AdaTensor", "AdaNN", "AdaFormats", "AdaProfile", "AdaBundle", "CGzip",
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .executableTarget(
      name: "AdaBench",
      dependencies: ["AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaFormats", "AdaTrain"]),
    .executableTarget(
      name: "adascale",
      dependencies: [
        "AdaTensor", "AdaCore", "AdaNN", "AdaIO", "AdaFormats", "AdaTrain", "AdaCompress", "AdaProfile",
        "AdaSearch", "AdaRecipe", "AdaBundle", "AdaBundleWriter", "AdaPipeline", "AdaRuntime",
        "AdaDistributed",
        "AdaONNX", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    .target(
      name: "TestSupport", dependencies: ["AdaTensor", "AdaNN"], path: "Tests/TestSupport"),
    .testTarget(
      name: "AdaBundleTests",
      dependencies: [
        "AdaBundle", "AdaBundleWriter", "AdaCompress", "AdaCore", "AdaIO", "AdaNN", "AdaONNX", "AdaProfile",
        "AdaTensor", .product(name: "CSV", package: "CSV.swift"), "TestSupport",
      ]),
    .testTarget(
      name: "AdaCompressTests",
      dependencies: [
        "AdaCompress", "AdaIO", "AdaNN", "AdaTensor", "AdaTrain", "TestSupport",
      ]),
    .testTarget(name: "AdaCoreTests", dependencies: ["AdaCore", "AdaTensor", "TestSupport"]),
    .testTarget(
      name: "AdaDistributedTests",
      dependencies: [
        "AdaBundle", "AdaBundleWriter", "AdaCompress", "AdaDistributed", "AdaIO", "AdaNN", "AdaProfile",
        "AdaTensor", "TestSupport",
      ]),
    .testTarget(
      name: "AdaFormatsTests",
      dependencies: [
        "AdaFormats", "AdaIO", "AdaNN", "AdaTensor", "CGzip", "TestSupport",
      ]),
    .testTarget(name: "AdaIOTests", dependencies: ["AdaCore", "AdaIO", "AdaNN", "AdaTensor", "TestSupport"]),
    .testTarget(name: "AdaNNTests", dependencies: ["AdaNN", "AdaTensor", "TestSupport"]),
    .testTarget(
      name: "AdaONNXTests",
      dependencies: [
        "AdaCompress", "AdaIO", "AdaNN", "AdaONNX", "AdaTensor", "TestSupport",
      ]),
    .testTarget(
      name: "AdaPipelineTests",
      dependencies: [
        "AdaBundle", "AdaCompress", "AdaFormats", "AdaIO", "AdaNN", "AdaPipeline", "AdaProfile", "AdaRecipe",
        "AdaSearch", "AdaTensor", "AdaTrain", "TestSupport",
      ]),
    .testTarget(
      name: "AdaProfileTests",
      dependencies: [
        "AdaFormats", "AdaIO", "AdaNN", "AdaProfile", "AdaTensor", "TestSupport",
      ]),
    .testTarget(
      name: "AdaRecipeTests",
      dependencies: [
        "AdaBundle", "AdaBundleWriter", "AdaCompress", "AdaIO", "AdaNN", "AdaProfile", "AdaRecipe",
        "AdaTensor", "AdaTrain", "TestSupport",
      ]),
    .testTarget(
      name: "AdaRuntimeTests",
      dependencies: [
        "AdaBundle", "AdaCompress", "AdaIO", "AdaNN", "AdaProfile", "AdaRuntime", "AdaTensor", "TestSupport",
      ]),
    .testTarget(name: "AdaSearchTests", dependencies: ["AdaSearch", "AdaTensor"]),
    .testTarget(name: "AdaTensorTests", dependencies: ["AdaTensor", "TestSupport"]),
    .testTarget(
      name: "AdaTrainTests",
      dependencies: [
        "AdaCore", "AdaNN", "AdaTensor", "AdaTrain", "TestSupport",
      ]),
    .testTarget(
      name: "adascaleTests",
      dependencies: [
        "AdaBundle", "AdaCompress", "AdaIO", "AdaNN", "AdaPipeline", "AdaSearch", "AdaTensor", "AdaTrain",
        "TestSupport",
      ]),
  ]
)
