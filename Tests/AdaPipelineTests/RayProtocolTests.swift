import AdaPipeline
import AdaSearch
import AdaTensor
import XCTest

/// The JSON-lines protocol with tools/ray/driver.py (docs/scale.md, "Protocol"): the driver
/// parses these lines with Python's json module, so the wire form is pinned here.
final class RayProtocolTests: XCTestCase {
  func testEvaluateRequestWireForm() {
    let line = RayProtocol.encode(
      .evaluate(
        batch: 3, argv: ["/w/adascale", "search-worker"], genomes: [Genome([0, 1]), Genome([2, 0])], chunk: 2)
    )
    XCTAssertEqual(
      line,
      #"{"argv":["/w/adascale","search-worker"],"batch":3,"chunk":2,"genomes":[[0,1],[2,0]],"op":"evaluate"}"#
    )
    XCTAssertFalse(line.contains("\n"))
  }

  func testWorkingDirectoryTravelsWithTheRequest() {
    XCTAssertEqual(
      RayProtocol.encode(.evaluate(batch: 1, argv: ["a"], genomes: [Genome([1])], chunk: 0, cwd: "/w/repo")),
      #"{"argv":["a"],"batch":1,"chunk":0,"cwd":"/w/repo","genomes":[[1]],"op":"evaluate"}"#)
    XCTAssertEqual(
      RayProtocol.encode(.run(batch: 2, jobs: [], cwd: "/w", env: ["OPENBLAS_NUM_THREADS": "2"])),
      #"{"batch":2,"cwd":"/w","env":{"OPENBLAS_NUM_THREADS":"2"},"jobs":[],"op":"run"}"#)
  }

  func testRunAndShutdownRequestWireForm() {
    XCTAssertEqual(
      RayProtocol.encode(.run(batch: 1, jobs: [RayProtocol.Job(name: "a.yaml", argv: ["x", "compress"])])),
      #"{"batch":1,"jobs":[{"argv":["x","compress"],"name":"a.yaml"}],"op":"run"}"#)
    XCTAssertEqual(RayProtocol.encode(.shutdown), #"{"op":"shutdown"}"#)
  }

  func testAJobCanNameTheDeviceItsNodeMustBe() throws {
    let job = RayProtocol.Job(
      name: "Pixel7a", argv: ["x", "profile"], resources: [RayProtocol.deviceResource("Pixel7a"): 1])
    XCTAssertEqual(
      RayProtocol.encode(.run(batch: 1, jobs: [job])),
      #"{"batch":1,"jobs":[{"argv":["x","profile"],"name":"Pixel7a","resources":{"adascale-device:Pixel7a":1}}],"op":"run"}"#
    )
    let ready = try RayProtocol.decode(
      #"{"cpus": 3.0, "devices": ["loop-a", "loop-b"], "event": "ready", "nodes": 2}"#)
    XCTAssertEqual(ready.devices, ["loop-a", "loop-b"])
    let done = try RayProtocol.decode(
      #"{"batch": 1, "event": "job", "index": 0, "node": "127.0.0.1", "node_id": "0593abc", "status": 0}"#)
    XCTAssertEqual(done.nodeId, "0593abc")
  }

  func testResultEventCarriesTheExactAccuracy() throws {
    let x = 61.0 / 96.0
    let e = try RayProtocol.decode(
      #"{"batch": 3, "bits": "\#(RayProtocol.bits(x))", "event": "result", "index": 1, "node": "127.0.0.1", "seconds": 0.5}"#
    )
    XCTAssertEqual(e.event, .result)
    XCTAssertEqual(e.batch, 3)
    XCTAssertEqual(e.index, 1)
    XCTAssertEqual(e.node, "127.0.0.1")
    XCTAssertEqual(e.accuracy?.bitPattern, x.bitPattern)
  }

  func testReadyJobAndErrorEvents() throws {
    let ready = try RayProtocol.decode(#"{"cpus": 2.0, "event": "ready", "nodes": 1}"#)
    XCTAssertEqual(ready.event, .ready)
    XCTAssertEqual(ready.nodes, 1)
    XCTAssertEqual(ready.cpus, 2)
    let job = try RayProtocol.decode(
      #"{"batch": 2, "event": "job", "index": 0, "status": -9, "stdout": "", "stderr": "killed", "node": "n", "seconds": 1}"#
    )
    XCTAssertEqual(job.status, -9)
    XCTAssertEqual(job.stderr, "killed")
    let error = try RayProtocol.decode(
      #"{"event": "error", "message": "cannot reach the Ray cluster at h:1"}"#)
    XCTAssertEqual(error.event, .error)
    XCTAssertEqual(error.message, "cannot reach the Ray cluster at h:1")
  }

  func testMalformedLinesAreBadFormat() {
    for line in ["not json", #"{"event": "unknown"}"#, #"{"index": 1}"#] {
      XCTAssertThrowsError(try RayProtocol.decode(line), line) { e in
        XCTAssertEqual((e as? AdaError)?.kind, .badFormat, line)
      }
    }
  }

  func testBitsRoundTripEveryDouble() {
    for x in [0.0, 1.0, 1.0 / 3.0, 0.8125, 5e-324, .greatestFiniteMagnitude, -0.0] {
      let b = RayProtocol.bits(x)
      XCTAssertEqual(b.count, 16)
      XCTAssertEqual(RayProtocol.double(bits: b)?.bitPattern, x.bitPattern, b)
    }
    XCTAssertEqual(RayProtocol.bits(1.0), "3ff0000000000000")
    XCTAssertNil(RayProtocol.double(bits: "3ff"))
    XCTAssertNil(RayProtocol.double(bits: "zzzzzzzzzzzzzzzz"))
  }
}
