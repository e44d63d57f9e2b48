// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for adascale's readers of files from elsewhere (docs/testing.md, "Fuzzing").
// Built by `make fuzz`:
//   swift build -c release --package-path Fuzz --scratch-path .build-fuzz \
//     -Xswiftc -sanitize=fuzzer,address
// SwiftPM links an executable's main to `<module>_main`, so each target defines that and hands
// its callback to libFuzzer's driver (LLVMFuzzerRunDriver, declared by CLibFuzzer).
let targets = [
  "fuzz-h5", "fuzz-keras", "fuzz-config", "fuzz-recipe", "fuzz-manifest", "fuzz-lut", "fuzz-trace",
  "fuzz-dataset-h5", "fuzz-idx", "fuzz-frame",
]

let package = Package(
  name: "adascale-fuzz",
  platforms: [.macOS(.v14)],
  dependencies: [.package(name: "adascale", path: "..")],
  targets: [
    .target(name: "CLibFuzzer"),
    .target(
      name: "FuzzSupport",
      dependencies: [
        .product(name: "AdaTensor", package: "adascale"), .product(name: "AdaIO", package: "adascale"),
        .product(name: "AdaFormats", package: "adascale"),
        .product(name: "AdaRecipe", package: "adascale"), .product(name: "AdaBundle", package: "adascale"),
        .product(name: "AdaRuntime", package: "adascale"),
        .product(name: "AdaDistributed", package: "adascale"),
      ]),
  ]
    + targets.map { name in
      .executableTarget(
        name: name, dependencies: ["FuzzSupport", "CLibFuzzer"], path: "Targets/\(name)",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])],
        // ld.gold stops with "internal error in format_file_lineno" on these links; lld works.
        linkerSettings: [.unsafeFlags(["-use-ld=lld"])])
    }
)
