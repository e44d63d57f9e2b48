import AdaSearch
import AdaTensor
import Foundation

/// The protocol between adascale and its Ray driver (`tools/ray/driver.py`, started as a child):
/// one JSON object per line, requests on the driver's standard input, events on its standard
/// output; the driver's own log goes to standard error. Keys are snake_case.
///
/// After start-up the driver sends `ready` (with the cluster's nodes, CPUs and devices) or `error` and
/// exits. Then, per request:
///
/// - `{"op":"evaluate","batch":3,"argv":[…],"genomes":[[0,1],[2,0]],"chunk":1}`: the genomes
///   in tasks of `chunk`, each running `argv + ["--genomes", JSON]` (an `adascale search-worker`)
///   → one `result` per genome as its task finishes (`index`, `bits`: the accuracy's IEEE-754
///   bits as 16 hex digits, `node`, `seconds`), then `done`; or `error` (with `index`).
/// - `{"op":"run","batch":4,"jobs":[{"name":"a","argv":[…]}]}`: each job a task running its
///   command → one `job` event per job as it finishes (`index`, `status`, `stdout`, `stderr`
///   tail, `node`, `node_id`, `seconds`), then `done`. A job may name `resources` its node must
///   offer (a device: `deviceResource(_:)`); one no node offers fails at once (status -1).
/// - `{"op":"shutdown"}` (or end of input): the driver disconnects and exits 0.
///
/// `evaluate` and `run` carry `cwd`, the directory the commands run in (adascale's own working
/// directory: a recipe's relative paths resolve against it, so every node needs it too); `run`
/// also carries `env`, variables its commands get (`OPENBLAS_NUM_THREADS` when set here: a
/// compress run's SVD initialisation depends on it).
///
/// Example exchange (`>` to the driver, `<` from it):
///
///     < {"cpus":2,"event":"ready","nodes":1}
///     > {"argv":["/w/adascale","search-worker",…],"batch":1,"chunk":1,"genomes":[[1,0]],"op":"evaluate"}
///     < {"batch":1,"bits":"3fe8000000000000","event":"result","index":0,"node":"127.0.0.1","seconds":0.9}
///     < {"batch":1,"event":"done"}
public enum RayProtocol {
  public struct Job: Codable, Hashable, Sendable {
    public var name: String
    public var argv: [String]
    /// Ray resources the job's task needs, e.g. `["adascale-device:raspberry-pi-4": 1]`: it runs
    /// only on a node that offers them (`deviceResource(_:)`).
    public var resources: [String: Double]?

    public init(name: String, argv: [String], resources: [String: Double]? = nil) {
      self.name = name
      self.argv = argv
      self.resources = resources
    }
  }

  /// The custom Ray resource that makes a node the device `name`: `ray start …
  /// --resources '{"adascale-device:NAME": 1}'`.
  public static func deviceResource(_ name: String) -> String { "adascale-device:" + name }

  public struct Request: Codable, Hashable, Sendable {
    public enum Op: String, Codable, Sendable { case evaluate, run, shutdown }
    public var op: Op
    public var batch: Int?
    public var argv: [String]?
    public var genomes: [Genome]?
    public var chunk: Int?
    public var jobs: [Job]?
    public var cwd: String?
    public var env: [String: String]?

    public static func evaluate(
      batch: Int, argv: [String], genomes: [Genome], chunk: Int, cwd: String? = nil
    ) -> Request {
      Request(op: .evaluate, batch: batch, argv: argv, genomes: genomes, chunk: chunk, cwd: cwd)
    }

    public static func run(batch: Int, jobs: [Job], cwd: String? = nil, env: [String: String]? = nil)
      -> Request
    {
      Request(op: .run, batch: batch, jobs: jobs, cwd: cwd, env: env)
    }

    public static let shutdown = Request(op: .shutdown)
  }

  public struct Event: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable { case ready, result, job, done, error }
    public var event: Kind
    public var batch: Int?
    public var index: Int?
    /// `result`: the accuracy's bit pattern (`Double.bitPattern`, 16 hex digits).
    public var bits: String?
    public var node: String?
    /// `job`: the Ray node the task ran on (unique where `node`, an IP, may not be).
    public var nodeId: String?
    public var seconds: Double?
    /// `job`: the command's exit status (negative: killed by that signal).
    public var status: Int?
    public var stdout: String?
    public var stderr: String?
    public var message: String?
    public var nodes: Int?
    public var cpus: Double?
    /// `ready`: the devices the cluster's nodes offer (`deviceResource(_:)`, without the prefix).
    public var devices: [String]?

    public init(event: Kind, batch: Int? = nil, index: Int? = nil) {
      self.event = event
      self.batch = batch
      self.index = index
    }

    /// The accuracy a `result` carries.
    public var accuracy: Double? { bits.flatMap(RayProtocol.double(bits:)) }
  }

  /// One line (no newline), keys sorted.
  public static func encode(_ request: Request) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    // Encoding these plain values cannot fail.
    return String(decoding: try! encoder.encode(request), as: UTF8.self)
  }

  /// An event line from the driver.
  public static func decode(_ line: String) throws(AdaError) -> Event {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
      return try decoder.decode(Event.self, from: Data(line.utf8))
    } catch {
      throw AdaError(.badFormat, path: "ray driver", "not a protocol event: \(line.prefix(200))")
    }
  }

  /// `x`'s IEEE-754 bits as 16 lowercase hex digits: a JSON number need not round-trip exactly.
  public static func bits(_ x: Double) -> String {
    let hex = String(x.bitPattern, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  public static func double(bits: String) -> Double? {
    guard bits.count == 16, let v = UInt64(bits, radix: 16) else { return nil }
    return Double(bitPattern: v)
  }
}
