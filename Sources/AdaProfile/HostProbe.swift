import AdaTensor
import Foundation

/// The host's measured roofline: peak FLOP/s from an sgemm probe and memory bandwidth from a
/// memcpy probe, both with the profiler's thread count. Cached with the latency cache.
public struct HostMeasurements: Codable, Hashable, Sendable {
  /// Single-precision GFLOP/s of a square OpenBLAS sgemm (`gemmSize`³).
  public var peakGflops: Double
  /// GB/s of a large memcpy, counting bytes read plus bytes written.
  public var bandwidthGBs: Double
  /// Clock of the host CPU (GHz) from /proc/cpuinfo, when known; scales dispatch overhead.
  public var clockGHz: Double?
  public var gemmSize: Int
  public var copyBytes: Int

  public init(
    peakGflops: Double, bandwidthGBs: Double, clockGHz: Double?, gemmSize: Int, copyBytes: Int
  ) {
    self.peakGflops = peakGflops
    self.bandwidthGBs = bandwidthGBs
    self.clockGHz = clockGHz
    self.gemmSize = gemmSize
    self.copyBytes = copyBytes
  }

  /// Ridge point of the host roofline, FLOPs per byte.
  public var ridge: Double { peakGflops / bandwidthGBs }

  enum CodingKeys: String, CodingKey {
    case peakGflops = "peak_gflops"
    case bandwidthGBs = "bandwidth_gbs"
    case clockGHz = "clock_ghz"
    case gemmSize = "gemm_size"
    case copyBytes = "copy_bytes"
  }
}

/// Measures `HostMeasurements`. The sgemm probe multiplies two `n × n` matrices (2n³ FLOPs per
/// call); the memcpy probe copies a buffer larger than the last-level cache of common CPUs
/// (default 64 MiB). Both use `LatencyProbe` (warm-up, interleaved rounds, median of means).
public enum HostProbe {
  public static func measure(
    threads: Int, budgetMs: Double = 300, gemmSize n: Int = 512, copyBytes: Int = 64 << 20,
    progress: (String) -> Void = { _ in }
  ) -> HostMeasurements {
    var g = SeededGenerator(seed: 11)
    let a = Tensor.uniform([n, n], lo: -1, hi: 1, using: &g).scalars
    let b = Tensor.uniform([n, n], lo: -1, hi: 1, using: &g).scalars
    var c = [Float](repeating: 0, count: n * n)
    let gemm = Benchmark(name: "sgemm \(n)", budgetMs: budgetMs) {
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          c.withUnsafeMutableBufferPointer { pc in
            Gemm.sgemm(m: n, n: n, k: n, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
          }
        }
      }
    }
    let source = UnsafeMutableRawPointer.allocate(byteCount: copyBytes, alignment: 64)
    let target = UnsafeMutableRawPointer.allocate(byteCount: copyBytes, alignment: 64)
    defer {
      source.deallocate()
      target.deallocate()
    }
    memset(source, 1, copyBytes)
    memset(target, 0, copyBytes)
    let copy = Benchmark(name: "memcpy \(copyBytes >> 20) MiB", budgetMs: budgetMs) {
      memcpy(target, source, copyBytes)
    }
    let config = ProbeConfig(budgetMs: budgetMs, rounds: 6, warmupMs: 20, threads: threads)
    progress("probing host peak (sgemm \(n)) and bandwidth (memcpy \(copyBytes >> 20) MiB)")
    let stats = LatencyProbe.measure([gemm, copy], config: config)
    let flops = 2 * Double(n) * Double(n) * Double(n)
    return HostMeasurements(
      peakGflops: flops / (stats[0].meanMs * 1e-3) / 1e9,
      bandwidthGBs: 2 * Double(copyBytes) / (stats[1].meanMs * 1e-3) / 1e9,
      clockGHz: HostInfo.clockGHz, gemmSize: n, copyBytes: copyBytes)
  }
}
