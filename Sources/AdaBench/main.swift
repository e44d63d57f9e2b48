import AdaTensor
import AdaTrain
import Foundation

// AdaBench: speed measurements for `make bench` and for finding hot spots. Not part of the
// product; every result is printed for people and as one JSON line (`BenchRecord`).
//
//     AdaBench gemm [--threads 1,2] [--seconds 1]
//     AdaBench layers --arch recipes/models/fmnist_cnn.yaml [--batch 64] [--repeats 20]
//     AdaBench train --arch recipes/models/fmnist_cnn.yaml [--seconds 20] [--write-order FILE]
//     AdaBench train-step --arch recipes/models/fmnist_cnn.yaml [--batch 64] [--seconds 20]
//     AdaBench infer --arch FILE.yaml [--batch 1] [--seconds 3]
//     AdaBench depthwise [--seconds 0.2]
//
// Common options: --threads N (BLAS threads and Parallel workers; default 2), --json (JSON lines
// only).

let usage = """
  usage: AdaBench <command> [options]

  commands:
    gemm        OpenBLAS sgemm GFLOP/s at 1024³ and at the model's GEMM shapes, 1 and 2 threads
                  [--arch FILE.yaml] [--batch 64] [--threads 1,2] [--seconds 1]
    layers      forward/backward time of each layer in training mode
                  --arch FILE.yaml [--batch 64] [--repeats 20]
    train       training throughput through Trainer.fit as `adascale train` runs it (Adam lr 0.001,
                  shuffled Fashion-MNIST, no augmentation), images/s and GFLOP/s
                  --arch FILE.yaml [--batch 64] [--seconds 20] [--warmup 5] [--seed 1]
                  [--write-order FILE --order-epochs N] (the epochs' shuffle order, Int32 LE)
    train-step  forward + cross-entropy + backward + SGD update, images/s and GFLOP/s
                  --arch FILE.yaml [--batch 64] [--seconds 20] [--data fmnist|random] [--lr 0.01]
                  [--blas-threads N]
    infer       median forward latency
                  --arch FILE.yaml [--batch 1] [--seconds 3]
                  (--model FILE.h5 answers with an error until AdaIO's Keras reader is merged)
    depthwise   depthwise 3×3 forward on MobileNetV2(0.35) shapes: SIMD path vs the general loop
                  [--seconds 0.2]
    switch      select + swap cost of the adaptation loop, variants loaded (runs adascale simulate)
                  --bundle DIR [--trace recipes/traces/commute.csv] [--decisions 20000]

  common: --threads N (BLAS threads and Parallel workers, default 2), --json (JSON lines only),
          --plain-malloc (skip Memory.configureAllocator)
  """

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first, !["-h", "--help", "help"].contains(command) else {
  print(usage)
  exit(arguments.isEmpty ? 1 : 0)
}

do {
  let options = try Options(Array(arguments.dropFirst()))
  // --plain-malloc keeps glibc's defaults, to measure what `configureAllocator` buys.
  if !options.flag("plain-malloc") { Memory.configureAllocator() }
  switch command {
  case "gemm": try GemmBench.run(options)
  case "layers": try LayerProfile.run(options)
  case "train": try TrainerBench.run(options)
  case "train-step": try TrainStepBench.run(options)
  case "infer": try InferBench.run(options)
  case "switch": try SwitchBench.run(options)
  case "depthwise": try DepthwiseBench.run(options)
  default: throw AdaError(.invalidValue, path: command, "unknown command\n\(usage)")
  }
} catch let error as AdaError {
  FileHandle.standardError.write(Data("AdaBench: \(error)\n".utf8))
  exit(1)
}
