import AdaBundle
import AdaPipeline
import AdaRecipe
import AdaTensor
import Foundation

/// `adascale compress --recipes A.yaml B.yaml …`: every recipe is one `adascale compress` run
/// (a Ray task with `--backend ray`, else a child process here, one after another), and one
/// table sums them up: recipe, bundle, variants, best accuracy, latency span, wall time, status.
/// Exit status 1 when any recipe failed.
struct CompressRecipes {
  let command: CompressCommand

  struct Row {
    var recipe: String
    var bundle: String
    var result: RaySession.JobResult?
  }

  /// The `compress` arguments for one recipe, with the options given for all.
  func arguments(_ recipe: String) -> [String] {
    let c = command
    var args = ["compress", "--recipe", Self.absolute(recipe), "--json", "--progress", "none"]
    if c.overwrite { args.append("--overwrite") }
    if c.fresh { args.append("--fresh") }
    if c.noCompareRandom { args.append("--no-compare-random") }
    if c.measureOverhead { args.append("--measure-overhead") }
    args += ["--probe-budget-ms", String(c.probeBudgetMs)]
    if let cache = c.latencyCache { args += ["--latency-cache", Self.absolute(cache)] }
    if let budget = c.budget { args += ["--budget", budget] }
    return args
  }

  func run() throws {
    var rows: [Row] = []
    for path in command.recipes {
      let parsed = try Recipe.load(path: path)
      rows.append(Row(recipe: path, bundle: parsed.resolve(parsed.output.directory)))
    }
    let executable = RaySession.executablePath
    let jobs = rows.map { RayProtocol.Job(name: $0.recipe, argv: [executable] + arguments($0.recipe)) }
    let started = Date()
    let log = { (text: String) in FileHandle.standardError.write(Data((text + "\n").utf8)) }
    let finished: (Int, RaySession.JobResult) -> Void = { i, r in
      log(
        String(
          format: "compress: %@ %@ on %@ in %.1f s", jobs[i].name, r.status == 0 ? "finished" : "failed",
          r.node, r.seconds))
    }
    if command.backend == "ray" {
      guard let address = command.rayAddress ?? ProcessInfo.processInfo.environment["ADASCALE_RAY_ADDRESS"]
      else {
        throw AdaError(
          .invalidValue, path: "--ray-address", "--backend ray needs a cluster address",
          hint: "pass --ray-address host:port or set ADASCALE_RAY_ADDRESS")
      }
      var configuration = try RaySession.Configuration.locate(address: address)
      configuration.maxInFlight = command.rayTasks
      let session = try RaySession(configuration)
      defer { session.close() }
      log(
        "compress: \(jobs.count) recipes as one Ray job on \(address) (\(session.nodes) node\(session.nodes == 1 ? "" : "s"), \(Int(session.cpus)) CPUs)"
      )
      let results = try session.run(jobs: jobs, progress: finished)
      for i in rows.indices { rows[i].result = results[i] }
    } else {
      for (i, job) in jobs.enumerated() {
        let r = Self.runLocally(job.argv)
        finished(i, r)
        rows[i].result = r
      }
    }
    print(Self.table(rows))
    print(String(format: "%d recipes in %.1f s", rows.count, Date().timeIntervalSince(started)))
    fflush(nil)  // the table before the error on standard error
    if rows.contains(where: { $0.result?.status != 0 }) {
      throw AdaError(.invalidValue, path: "--recipes", "some recipes failed (status column)")
    }
  }

  static func table(_ rows: [Row]) -> String {
    let header = ["recipe", "bundle", "variants", "best accuracy", "span", "wall s", "status"]
    let body = rows.map { row -> [String] in
      let r = row.result
      let wall = r.map { String(format: "%.1f", $0.seconds) } ?? ""
      guard let r, r.status == 0,
        let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(r.stdout.utf8))
      else {
        return [row.recipe, row.bundle, "", "", "", wall, status(r)]
      }
      let latencies = manifest.variants.map(\.latencyMs)
      let best = manifest.variants.map(\.accuracy).max() ?? 0
      let span = (latencies.min() ?? 0) > 0 ? latencies.max()! / latencies.min()! : 0
      return [
        row.recipe, row.bundle, "\(manifest.variants.count)", String(format: "%.2f%%", best * 100),
        String(format: "%.1f×", span), wall, "ok",
      ]
    }
    return Output.table(header: header, rows: body)
  }

  /// `failed (exit N): <last line of its standard error>`.
  static func status(_ r: RaySession.JobResult?) -> String {
    guard let r else { return "not run" }
    // The error line when there is one (a hint may follow it), else the last line.
    let lines = r.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    let last = String(lines.last { $0.hasPrefix("error: ") } ?? lines.last ?? "")
    let what = r.status < 0 ? "killed by signal \(-r.status)" : "exit \(r.status)"
    return r.status == 0 ? "ok (no manifest on stdout)" : "failed (\(what)): \(last.prefix(160))"
  }

  /// Runs a command here, collecting its output (no timeout: a compress run is long).
  static func runLocally(_ argv: [String]) -> RaySession.JobResult {
    let started = Date()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: argv[0])
    process.arguments = Array(argv.dropFirst())
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do {
      try process.run()
    } catch {
      return RaySession.JobResult(
        status: 127, stdout: "", stderr: "\(error)", node: "local", seconds: Date().timeIntervalSince(started)
      )
    }
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    group.wait()
    let status =
      process.terminationReason == .uncaughtSignal
      ? -Int(process.terminationStatus) : Int(process.terminationStatus)
    return RaySession.JobResult(
      status: status, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData.suffix(4000), as: UTF8.self), node: "local",
      seconds: Date().timeIntervalSince(started))
  }

  static func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
  }
}
