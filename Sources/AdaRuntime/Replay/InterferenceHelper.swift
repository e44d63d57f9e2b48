import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The two helper processes of a live replay, run by `adascale interfere hog|balloon` (a hidden
/// command the replay starts itself with). Each reads its setting, one number per line, from
/// standard input and ends on end of input or when its parent is gone, so that no helper
/// outlives the replay, however it ends (docs/runtime.md, "Live replay").
public enum InterferenceHelper {
  /// Busy for `duty × periodMs`, idle for the rest, every period; the duty comes from stdin
  /// (0 at start). The busy part spins on arithmetic, so it takes a whole core while it runs.
  public static func runHog(periodMs: Double, phase: Double) {
    let parent = getppid()
    var duty = 0.0
    var input = LineReader()
    var sink = 0.0
    // A random phase keeps the hogs' busy parts independent of one another.
    usleep(UInt32(max(0, min(phase, 1)) * periodMs * 1000))
    while true {
      let start = monotonic()
      let busyUntil = start + duty * periodMs / 1000
      while monotonic() < busyUntil {
        for i in 0..<1000 { sink += sqrt(Double(i) + sink.truncatingRemainder(dividingBy: 7)) }
      }
      let idleMs = max(0, periodMs - (monotonic() - start) * 1000)
      switch input.next(timeoutMs: Int32(idleMs.rounded())) {
      case .closed: return
      case .line(let text): if let d = Double(text), d >= 0, d <= 1 { duty = d }
      case .nothing: break
      }
      if getppid() != parent { return }
    }
  }

  /// Holds `N` MB allocated and touched (N from stdin, 0 at start), in 1 MB chunks that are
  /// mapped and written page by page to grow, and unmapped to shrink; reports what it holds
  /// every 16 MB while growing and when done.
  public static func runBalloon() {
    let parent = getppid()
    let chunkMB = 1
    let chunkBytes = chunkMB << 20
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    var chunks: [UnsafeMutableRawPointer] = []
    var input = LineReader()
    while true {
      switch input.next(timeoutMs: 100) {
      case .closed:
        for c in chunks { munmap(c, chunkBytes) }
        return
      case .line(let text):
        guard let mb = Int(text), mb >= 0 else { break }
        let want = mb / chunkMB
        while chunks.count > want { munmap(chunks.removeLast(), chunkBytes) }
        while chunks.count < want {
          guard
            let p = mmap(nil, chunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            p != MAP_FAILED
          else { break }
          var offset = 0
          while offset < chunkBytes {
            p.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self)
            offset += page
          }
          chunks.append(p)
          if chunks.count % 16 == 0 { report(chunks.count * chunkMB) }
        }
        report(chunks.count * chunkMB)
      case .nothing: break
      }
      if getppid() != parent {
        for c in chunks { munmap(c, chunkBytes) }
        return
      }
    }
  }

  /// Tells the replay how many MB are held (touched), one line per chunk while growing.
  static func report(_ mb: Int) {
    let line = Array("\(mb)\n".utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
  }

  static func monotonic() -> Double { ResourceMonitor.monotonicSeconds() }

  /// Lines from standard input without blocking longer than a timeout; keeps the last full line.
  struct LineReader {
    enum Event { case line(String), nothing, closed }
    var buffer: [UInt8] = []

    mutating func next(timeoutMs: Int32) -> Event {
      var fds = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
      let ready = poll(&fds, 1, max(timeoutMs, 0))
      guard ready > 0 else { return .nothing }
      var bytes = [UInt8](repeating: 0, count: 4096)
      let n = read(0, &bytes, bytes.count)
      if n <= 0 { return .closed }
      buffer += bytes[0..<n]
      guard let lastNewline = buffer.lastIndex(of: UInt8(ascii: "\n")) else { return .nothing }
      let lines = buffer[..<lastNewline].split(separator: UInt8(ascii: "\n"))
      buffer = Array(buffer[(lastNewline + 1)...])
      guard let last = lines.last else { return .nothing }
      return .line(String(decoding: last, as: UTF8.self).trimmingCharacters(in: .whitespaces))
    }
  }
}
