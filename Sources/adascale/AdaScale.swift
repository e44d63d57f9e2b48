import AdaTensor
import ArgumentParser
import Foundation

/// The `adascale` command line: thin commands that parse, build a config and call one library
/// entry point. Exit codes: 0 success, 1 user error (bad file, option or input; the message names
/// the file and the field), 2 internal error, 3 a failed gate (`diff`).
@main
struct AdaScale {
  static let configuration = CommandConfiguration(
    commandName: "adascale",
    abstract: "Compress Keras models for mobile and embedded devices, and adapt them at run time.",
    discussion: HelpText.reflow(
      """
      Models are Keras files (.h5, .keras, or .weights.h5 with --config). Tensors in and out are
      HDF5 datasets. Every command takes --json for machine-readable output.

      Examples:
        adascale inspect model.h5
        adascale predict --model model.h5 --input x.h5 --output y.h5
        adascale eval --model model.h5 --dataset fashion-mnist
        adascale train --model model.h5 --dataset fashion-mnist --epochs 2 \\
          --output tuned.h5
        adascale compress --recipe recipes/fmnist.yaml
        adascale simulate --bundle bundles/fmnist --trace recipes/traces/cpu_hog.csv
        adascale replay --bundle bundles/fmnist --trace recipes/traces/cpu_hog.csv \\
          --dataset fashion-mnist
        adascale exits --bundle bundles/fmnist
        adascale diff bundles/last bundles/fmnist --max-accuracy-drop 0.005 \\
          --junit gates.xml
        adascale export --model model.h5 --format onnx --output model.onnx
        adascale mdi plan --bundle bundles/fmnist --variant v03 \\
          --devices raspberry-pi-4,raspberry-pi-4
      """),
    version: AdaScaleVersion.string,
    subcommands: [
      InspectCommand.self, PredictCommand.self, EvalCommand.self, TrainCommand.self,
      ApplyCommand.self, ProfileCommand.self, CompressCommand.self, RunCommand.self, SimulateCommand.self,
      ExitsCommand.self, MDICommand.self, ReplayCommand.self, DiffCommand.self, InterfereCommand.self,
      DecodeCheckCommand.self, ExportCommand.self, SearchWorkerCommand.self,
    ])

  static func main() {
    Memory.configureAllocator()
    // Past a file-size limit (`ulimit -f`), write(2) then fails with EFBIG and the command
    // reports which file it could not write, instead of the kernel killing it with SIGXFSZ.
    signal(SIGXFSZ, SIG_IGN)
    CommandRunner.run(root: Root.self, arguments: Array(CommandLine.arguments.dropFirst()))
  }

  /// The root command type ArgumentParser dispatches through.
  struct Root: ParsableCommand {
    static let configuration = AdaScale.configuration
  }
}

enum AdaScaleVersion {
  static let string = "0.1.0"
}
