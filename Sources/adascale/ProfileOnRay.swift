import AdaPipeline
import AdaTensor
import Foundation

/// `adascale profile --backend ray --device A --device B …`: each device is measured on itself.
/// A Ray job per device runs `adascale profile --as-device NAME` on the node that offers the
/// resource `adascale-device:NAME` (each device one job at a time: the resource has one unit),
/// writes `--output-dir/ops-lut.NAME.json` there, and one table sums the devices up. Exit
/// status 1 when a device is not in the cluster (before anything runs) or a job failed.
struct ProfileOnRay {
  let command: ProfileCommand

  /// What one device's job printed (`adascale profile --json`), the fields the summary shows.
  struct Report: Decodable {
    struct Fingerprint: Decodable {
      var cpuModel: String
      var blasCore: String
      var threads: Int
    }
    struct Total: Decodable {
      var predictedMs: Double
      var measuredMs: Double?
      var relativeError: Double?
    }
    struct Device: Decodable {
      var device: String
      var source: String
      var energyMj: Double?
      var peakMemoryBytes: Int
    }
    var model: String
    var fingerprint: Fingerprint
    var total: Total
    var devices: [Device]
  }

  /// One row of the summary (and of `--json`).
  struct Row: Encodable {
    var device: String
    var node: String
    var nodeID: String
    var seconds: Double
    var status: Int
    var table: String
    var cpuModel: String?
    var blasCore: String?
    var threads: Int?
    var predictedMs: Double?
    var measuredMs: Double?
    var relativeError: Double?
    var energyMJ: Double?
    var peakMemoryBytes: Int?
    var error: String?

    enum CodingKeys: String, CodingKey {
      case device, node, seconds, status, table, threads, error
      case nodeID = "node_id"
      case cpuModel = "cpu_model"
      case blasCore = "blas_core"
      case predictedMs = "predicted_ms"
      case measuredMs = "measured_ms"
      case relativeError = "relative_error"
      case energyMJ = "energy_mj"
      case peakMemoryBytes = "peak_memory_bytes"
    }
  }

  /// The `adascale profile` arguments a device's job runs with.
  func arguments(device: String, table: String) -> [String] {
    let c = command
    var args = [
      "profile", "--model", CompressRecipes.absolute(c.modelOptions.model), "--as-device", device, "--json",
      "--output", table, "--budget-ms", String(c.budgetMs), "--threads", String(c.threads), "--batch",
      String(c.batch),
    ]
    if let config = c.modelOptions.config { args += ["--config", CompressRecipes.absolute(config)] }
    if let context = c.context { args += ["--context", context] }
    if c.noCache { args.append("--no-cache") }
    if let cache = c.cache { args += ["--cache", CompressRecipes.absolute(cache)] }
    if c.inGraph { args.append("--in-graph") }
    return args
  }

  func run() throws {
    let environment = ProcessInfo.processInfo.environment["ADASCALE_RAY_ADDRESS"].flatMap {
      $0.isEmpty ? nil : $0
    }
    guard let address = command.rayAddress ?? environment else {
      throw AdaError(
        .invalidValue, path: "--ray-address", "--backend ray needs a cluster address",
        hint: "pass --ray-address host:port or set ADASCALE_RAY_ADDRESS")
    }
    guard FileManager.default.fileExists(atPath: command.modelOptions.model) else {
      throw AdaError(.fileNotFound, file: command.modelOptions.model, "model file not found")
    }
    let directory = CompressRecipes.absolute(command.outputDir)
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw AdaError(
        .writeFailed, file: directory, "cannot create the output directory: \(error.localizedDescription)")
    }
    var configuration = try RaySession.Configuration.locate(address: address)
    configuration.field = "--ray-address"
    let session = try RaySession(configuration)
    defer { session.close() }
    let missing = command.device.filter { !session.devices.contains($0) }
    if !missing.isEmpty {
      let offered = session.devices.isEmpty ? "none" : session.devices.joined(separator: ", ")
      throw AdaError(
        .invalidValue, path: "--device",
        "no node of the Ray cluster at \(address) is \(missing.joined(separator: ", ")) (devices offered: \(offered))",
        hint:
          "start the device's node with: ray start --address \(address) --resources '{\"\(RayProtocol.deviceResource(missing[0]))\": 1}'"
      )
    }
    let tables = command.device.map { directory + "/ops-lut.\($0).json" }
    let executable = RaySession.executablePath
    let jobs = zip(command.device, tables).map { device, table in
      RayProtocol.Job(
        name: device, argv: [executable] + arguments(device: device, table: table),
        resources: [RayProtocol.deviceResource(device): 1])
    }
    let log = { (text: String) in FileHandle.standardError.write(Data((text + "\n").utf8)) }
    log(
      "profile: \(jobs.count) device\(jobs.count == 1 ? "" : "s") on the Ray cluster at \(address) (\(session.nodes) node\(session.nodes == 1 ? "" : "s"))"
    )
    let started = Date()
    let results = try session.run(jobs: jobs) { i, r in
      log(
        String(
          format: "profile: %@ %@ on node %@ in %.1f s", jobs[i].name, r.status == 0 ? "measured" : "failed",
          String(r.nodeID.prefix(8)), r.seconds))
    }
    let rows = zip(command.device, zip(tables, results)).map { device, pair in
      Self.row(device: device, table: pair.0, result: pair.1)
    }
    if command.json {
      try Output.printJSON(rows)
    } else {
      print(Self.table(rows))
      print(
        String(
          format: "%d devices in %.1f s; tables in %@", rows.count, Date().timeIntervalSince(started),
          directory))
    }
    fflush(nil)  // the table before the error on standard error
    if let failed = rows.first(where: { $0.status != 0 }) {
      throw AdaError(
        .invalidValue, path: "--device",
        "profiling \(failed.device) failed: \(failed.error ?? "exit \(failed.status)")")
    }
  }

  /// A device's row from its job: the report it printed, and its table, which must be there.
  static func row(device: String, table: String, result r: RaySession.JobResult) -> Row {
    var row = Row(
      device: device, node: r.node, nodeID: r.nodeID, seconds: r.seconds, status: r.status, table: table)
    guard r.status == 0 else {
      row.error = CompressRecipes.status(r)
      return row
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    guard let report = try? decoder.decode(Report.self, from: Data(r.stdout.utf8)) else {
      row.status = 1
      row.error = "no profile report on the job's standard output"
      return row
    }
    guard FileManager.default.fileExists(atPath: table) else {
      row.status = 1
      row.error = "the node wrote \(table), which this host cannot see (nodes need a shared filesystem)"
      return row
    }
    let measured = report.devices.first { $0.source == "measured" }
    row.cpuModel = report.fingerprint.cpuModel
    row.blasCore = report.fingerprint.blasCore
    row.threads = report.fingerprint.threads
    row.predictedMs = report.total.predictedMs
    row.measuredMs = report.total.measuredMs
    row.relativeError = report.total.relativeError
    row.energyMJ = measured?.energyMj
    row.peakMemoryBytes = measured?.peakMemoryBytes
    return row
  }

  static func table(_ rows: [Row]) -> String {
    func f(_ x: Double?, _ digits: Int) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }
    return Output.table(
      header: [
        "device", "node", "CPU (BLAS core)", "predicted ms", "measured ms", "error", "energy mJ", "table",
        "status",
      ],
      rows: rows.map { r in
        [
          r.device, String(r.nodeID.prefix(8)), r.cpuModel.map { "\($0) (\(r.blasCore ?? "?"))" } ?? "-",
          f(r.predictedMs, 3), f(r.measuredMs, 3), r.relativeError.map { f($0 * 100, 1) + "%" } ?? "-",
          f(r.energyMJ, 3), (r.table as NSString).lastPathComponent, r.error ?? "ok",
        ]
      })
  }
}
