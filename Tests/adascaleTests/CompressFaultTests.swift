import AdaIO
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

/// Faults injected into `adascale compress` (docs/testing.md, "Injected faults"): kill -9 at
/// random moments, two runs on one work directory, a file-size limit while a checkpoint and
/// while the bundle is written, a read-only output directory, damaged checkpoints. Each ends
/// in a clear error (exit 1, naming the file) or a resume to the same bundle as an
/// uninterrupted run; never a half-written bundle, a lost checkpoint or a hang.
final class CompressFaultTests: XCTestCase {
  /// One uninterrupted run shared by the tests of this class (made by the first that needs it).
  nonisolated(unsafe) static var shared: (tiny: TinyCompress, bundle: String, seconds: Double)?

  override class func tearDown() {
    if let s = shared { try? FileManager.default.removeItem(atPath: s.tiny.directory) }
    shared = nil
  }

  /// The shared data and the uninterrupted reference bundle.
  func reference() throws -> (tiny: TinyCompress, bundle: String, seconds: Double) {
    if let s = Self.shared { return s }
    let tiny = try TinyCompress(directory: Fixtures.temporaryDirectory("compress-faults").path)
    let started = Date()
    let r = try CLI.run(tiny.arguments(try tiny.recipe("reference")), timeout: 300)
    XCTAssertEqual(r.status, 0, r.stderr)
    guard r.status == 0 else { throw XCTSkip("the reference run failed:\n\(r.stderr)") }
    Self.shared = (tiny, tiny.directory + "/reference", Date().timeIntervalSince(started))
    return Self.shared!
  }

  /// kill -9 at two seeded random moments of the run (each rerun resumes from what the killed
  /// one left), then a rerun to the end: the bundle equals the uninterrupted run's.
  func testKilledAtRandomMomentsResumesToTheSameBundle() throws {
    let (tiny, reference, _) = try reference()
    // Kill moments are drawn over a run with the latency table warm (as the reruns have it).
    let started = Date()
    let warm = try CLI.run(tiny.arguments(try tiny.recipe("warm")), timeout: 300)
    XCTAssertEqual(warm.status, 0, warm.stderr)
    let seconds = Date().timeIntervalSince(started)
    try TinyCompress.assertSameBundle(tiny.directory + "/warm", reference, "a second uninterrupted run")
    let recipe = try tiny.recipe("killed")
    var g = SeededGenerator(seed: 17)
    var finished = false
    for k in 1...2 where !finished {
      let delay = (0.05 + 0.9 * Double(g.nextUniform())) * seconds
      let run = try CLI.start(
        tiny.arguments(recipe), log: URL(fileURLWithPath: tiny.directory + "/killed-\(k).log"))
      let deadline = Date().addingTimeInterval(delay)
      while run.process.isRunning && Date() < deadline { usleep(5_000) }
      run.kill()
      finished = !run.wasKilled()
      XCTAssertFalse(finished && run.process.terminationStatus != 0, run.log)
      let stage = run.log.split(separator: "\n").last.map(String.init) ?? ""
      print("kill \(k) after \(String(format: "%.2f", delay)) s: \(finished ? "finished first" : stage)")
    }
    if !finished {
      let r = try CLI.run(tiny.arguments(recipe), timeout: 300)
      XCTAssertEqual(r.status, 0, r.stderr)
    }
    try TinyCompress.assertSameBundle(tiny.directory + "/killed", reference, "killed twice, then rerun")
    XCTAssertEqual(
      TinyCompress.leftovers(of: tiny.directory + "/killed"), [],
      "a completed run tidies what killed runs left")
  }

  /// A second run on a work directory in use fails at once naming the first run's pid; once the
  /// first is killed (-9) the lock is free, and the rerun resumes to the same bundle.
  func testSecondRunOnABusyWorkDirectoryIsRefusedNamingThePid() throws {
    let (tiny, reference, _) = try reference()
    let recipe = try tiny.recipe("locked")
    let lock = tiny.directory + "/locked.work/compress.lock"
    let first = try CLI.start(
      tiny.arguments(recipe), log: URL(fileURLWithPath: tiny.directory + "/first.log"))
    let pid = first.process.processIdentifier
    let deadline = Date().addingTimeInterval(60)
    while first.process.isRunning, Date() < deadline,
      (try? String(contentsOfFile: lock, encoding: .utf8))?.hasPrefix("\(pid)\n") != true
    {
      usleep(2_000)
    }
    let second = try CLI.run(tiny.arguments(recipe), timeout: 60)
    let stillRunning = first.process.isRunning
    first.kill()
    guard stillRunning else { return XCTFail("the first run ended before the second started:\n\(first.log)") }
    XCTAssertEqual(second.status, 1, second.stderr)
    XCTAssertTrue(
      second.stderr.contains(
        "locked.work: the work directory is in use by another adascale compress run (pid \(pid))"),
      second.stderr)
    XCTAssertTrue(first.wasKilled())

    let third = try CLI.run(tiny.arguments(recipe), timeout: 300)
    XCTAssertEqual(third.status, 0, "the lock must die with its holder:\n\(third.stderr)")
    try TinyCompress.assertSameBundle(
      tiny.directory + "/locked", reference, "after the lock holder was killed")
  }

  /// Out of space (a file-size limit: writes fail with EFBIG) while the supernet checkpoint is
  /// rewritten: exit 1 naming the checkpoint, the previous checkpoint intact, no temporary file
  /// left; a rerun without the limit resumes to the same bundle. Then out of space while that
  /// bundle is replaced (`--overwrite`): exit 1 naming a file of the bundle, the previous bundle
  /// untouched, no temporary directory left.
  func testOutOfSpaceWhileWritingACheckpointAndABundle() throws {
    let prlimit = "/usr/bin/prlimit"
    guard FileManager.default.isExecutableFile(atPath: prlimit) else { throw XCTSkip("needs prlimit") }
    let (tiny, reference, _) = try reference()
    let recipe = try tiny.recipe("full")
    let bundle = tiny.directory + "/full"
    let checkpoint = tiny.directory + "/full.work/supernet/" + Checkpoint.fileName
    let run = try CLI.start(tiny.arguments(recipe), log: URL(fileURLWithPath: tiny.directory + "/full-1.log"))
    let checkpointed = run.waitForFile(checkpoint, timeout: 300)
    run.kill()
    guard checkpointed else { return XCTFail("no supernet checkpoint before the run ended:\n\(run.log)") }
    let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))

    let limit = before.count / 2
    let full = try CLI.run(
      tiny.arguments(recipe), wrapper: [prlimit, "--fsize=\(limit)", "--"], timeout: 300)
    XCTAssertEqual(full.status, 1, full.stderr)
    XCTAssertTrue(
      full.stderr.contains("error: \(checkpoint): writing the checkpoint failed: File too large"), full.stderr
    )
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint)), before, "the previous checkpoint")
    XCTAssertNoThrow(try Checkpoint.read(from: URL(fileURLWithPath: checkpoint)))
    let names = try FileManager.default.contentsOfDirectory(atPath: tiny.directory + "/full.work/supernet")
    XCTAssertEqual(names.filter { $0.contains(".tmp-") }, [], "temporary checkpoint files left")

    let resumed = try CLI.run(tiny.arguments(recipe), timeout: 300)
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    try TinyCompress.assertSameBundle(bundle, reference, "resumed after a failed checkpoint write")

    let manifest = try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))
    let variantSize =
      try FileManager.default.attributesOfItem(atPath: bundle + "/variants/v01.h5")[.size] as! Int
    // Below the manifest's size, then below the first variant's (its HDF5 writer fails).
    for limit in [manifest.count / 2, variantSize - 1] {
      let overwrite = try CLI.run(
        tiny.arguments(recipe) + ["--overwrite"], wrapper: [prlimit, "--fsize=\(limit)", "--"], timeout: 300)
      XCTAssertEqual(overwrite.status, 1, overwrite.stderr)
      XCTAssertTrue(
        overwrite.stderr.contains("error: \(bundle)/"), "names a file of the bundle: \(overwrite.stderr)")
      XCTAssertTrue(overwrite.stderr.contains("File too large"), overwrite.stderr)
      print(
        "limit \(limit) bytes: "
          + (overwrite.stderr.split(separator: "\n").first { $0.hasPrefix("error:") } ?? ""))
      XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json")), manifest)
      try TinyCompress.assertSameBundle(bundle, reference, "the previous bundle after a failed overwrite")
    }
    XCTAssertEqual(TinyCompress.leftovers(of: bundle), [], "temporary bundle directories left")
  }

  /// A read-only output directory, or work directory: exit 1 before any training, naming it.
  /// (Run as root, the child drops the capabilities that let root write anywhere.)
  func testReadOnlyDirectoriesFailBeforeAnyWork() throws {
    var wrapper: [String] = []
    if getuid() == 0 {
      let setpriv = "/usr/bin/setpriv"
      guard FileManager.default.isExecutableFile(atPath: setpriv) else {
        throw XCTSkip("running as root: needs setpriv to drop CAP_DAC_OVERRIDE")
      }
      wrapper = [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    }
    let tiny = try reference().tiny
    let readOnly = tiny.directory + "/read-only"
    try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
    XCTAssertEqual(chmod(readOnly, 0o555), 0)
    defer { chmod(readOnly, 0o755) }

    let bundle = readOnly + "/bundle"
    let work = tiny.directory + "/ro-bundle.work"
    let r = try CLI.run(
      tiny.arguments(try tiny.recipe("ro-bundle", output: bundle, work: work)), wrapper: wrapper, timeout: 60)
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(
      r.stderr.contains(
        "output.directory: \(bundle): cannot write the bundle: creating a directory in \(readOnly) fails: Permission denied"
      ), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: work), "failed before the work directory was made")

    let w = try CLI.run(
      tiny.arguments(try tiny.recipe("ro-work", work: readOnly + "/work")), wrapper: wrapper, timeout: 60)
    XCTAssertEqual(w.status, 1, w.stderr)
    XCTAssertTrue(
      w.stderr.contains("error: \(readOnly)/work: cannot prepare the work directory: "), w.stderr)
  }

  /// A damaged supernet checkpoint (truncated, garbage, another format version) or search
  /// checkpoint: exit 1 naming the file, what is wrong, and what to do; deleting it (as the
  /// hint says) restarts that stage, and the run ends with the same bundle.
  func testDamagedCheckpointsAreReportedAndDeletingOneRestartsItsStage() throws {
    let (tiny, reference, _) = try reference()
    let cases: [(name: String, file: String, damage: (Data) -> Data, message: String)] = [
      (
        "truncated", "supernet/" + Checkpoint.fileName, { $0.prefix($0.count / 2) },
        "the file is truncated or damaged"
      ),
      (
        "garbage", "supernet/" + Checkpoint.fileName, { Data(repeating: 0x5A, count: $0.count) },
        "expected magic"
      ),
      (
        "version", "supernet/" + Checkpoint.fileName,
        {
          var d = $0; d[8] = 2; return d
        }, "checkpoint format version 2; this adascale reads version 1"
      ),
      ("search", "search-", { $0.prefix(100) }, "not a readable search checkpoint (truncated or corrupt)"),
    ]
    for c in cases {
      let work = tiny.directory + "/\(c.name).work"
      try FileManager.default.copyItem(atPath: reference + ".work", toPath: work)
      let names =
        try FileManager.default.contentsOfDirectory(atPath: work) + ["supernet/" + Checkpoint.fileName]
      let file = work + "/" + (try XCTUnwrap(names.first { $0.hasPrefix(c.file) }))
      try c.damage(try Data(contentsOf: URL(fileURLWithPath: file))).write(to: URL(fileURLWithPath: file))
      let recipe = try tiny.recipe(c.name, work: work)
      let r = try CLI.run(tiny.arguments(recipe), timeout: 120)
      XCTAssertEqual(r.status, 1, "\(c.name): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains("error: \(file): "), "\(c.name): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(c.message), "\(c.name): \(r.stderr)")
      XCTAssertTrue(
        r.stderr.contains(
          "hint: \(file) is adascale's own intermediate state, damaged or written by another"),
        "\(c.name): \(r.stderr)")
      if c.name == "truncated" {
        try FileManager.default.removeItem(atPath: file)
        let again = try CLI.run(tiny.arguments(recipe), timeout: 300)
        XCTAssertEqual(again.status, 0, again.stderr)
        try TinyCompress.assertSameBundle(tiny.directory + "/" + c.name, reference, "supernet retrained")
      }
    }
  }

  /// `make faults` (tools/faults/kill_loop.sh): `ADASCALE_KILL_LOOP` runs (default: skipped),
  /// each killed with SIGKILL at a moment drawn from `ADASCALE_KILL_SEED` over a warm run's
  /// length, then rerun to the end; every bundle must equal the uninterrupted run's. Prints a
  /// Markdown table: the moment, what the killed run was doing, what the rerun resumed.
  func testKillLoop() throws {
    let env = ProcessInfo.processInfo.environment
    guard let runs = env["ADASCALE_KILL_LOOP"].flatMap(Int.init), runs > 0 else {
      throw XCTSkip("set ADASCALE_KILL_LOOP=<runs> (make faults)")
    }
    let seed = env["ADASCALE_KILL_SEED"].flatMap(UInt64.init) ?? 1
    let (tiny, reference, _) = try reference()
    let started = Date()
    XCTAssertEqual(try CLI.run(tiny.arguments(try tiny.recipe("loop-warm")), timeout: 300).status, 0)
    let seconds = Date().timeIntervalSince(started)
    var g = SeededGenerator(seed: seed)
    var rows = [
      "| run | killed at s | its last log line | the rerun picked up | bundle |", "|---|---|---|---|---|",
    ]
    var same = 0
    for i in 1...runs {
      let name = "loop-\(i)"
      let recipe = try tiny.recipe(name)
      let delay = Double(g.nextUniform()) * seconds
      let run = try CLI.start(
        tiny.arguments(recipe), log: URL(fileURLWithPath: tiny.directory + "/\(name).log"))
      let deadline = Date().addingTimeInterval(delay)
      while run.process.isRunning && Date() < deadline { usleep(2_000) }
      run.kill()
      let killed = run.wasKilled()
      let doing =
        killed
        ? (run.log.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) }
          ?? "starting")
        : "finished first"
      var rerun = "not needed"
      var result = "different"
      if killed {
        let r = try CLI.run(tiny.arguments(recipe), timeout: 300)
        rerun =
          r.status != 0
          ? "exit \(r.status): \(r.stderr.split(separator: "\n").first { $0.hasPrefix("error") } ?? "")"
          : Self.resumedStages(r.stderr)
      }
      let before = testRun?.failureCount ?? 0
      try TinyCompress.assertSameBundle(tiny.directory + "/" + name, reference, "\(name)")
      if (testRun?.failureCount ?? 0) == before,
        TinyCompress.leftovers(of: tiny.directory + "/" + name).isEmpty
      {
        result = "same"
        same += 1
      }
      let cell = { (s: String) in String(s.replacingOccurrences(of: "|", with: "/").prefix(90)) }
      rows.append("| \(i) | \(String(format: "%.2f", delay)) | \(cell(doing)) | \(cell(rerun)) | \(result) |")
    }
    print(
      "kill loop: seed \(seed), \(runs) runs, warm run \(String(format: "%.1f", seconds)) s; \(same) of \(runs) bundles equal the uninterrupted run's"
    )
    print(rows.joined(separator: "\n"))
    XCTAssertEqual(same, runs)
  }

  /// What a rerun picked up from the work directory, from its log ("baseline reused, supernet
  /// from epoch 1 step 7, search resumed").
  static func resumedStages(_ log: String) -> String {
    var parts: [String] = []
    for line in log.split(separator: "\n").map(String.init) {
      if line.contains("baseline: reusing") { parts.append("baseline reused") }
      if line.contains("already trained: reusing") { parts.append("supernet trained") }
      if line.contains("resuming from"),
        let r = line.range(of: #"at epoch \d+, step \d+"#, options: .regularExpression)
      {
        let stage =
          line.contains("/supernet") ? "supernet" : line.contains("/baseline-") ? "baseline" : "training"
        parts.append("\(stage) from " + line[r].dropFirst(3).replacingOccurrences(of: ",", with: ""))
      }
      if line.contains("search: resuming") { parts.append("search resumed") }
    }
    return parts.isEmpty ? "started over" : parts.joined(separator: ", ")
  }
}
