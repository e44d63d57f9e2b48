import AdaNN
import AdaProfile
import XCTest

/// Worked examples of the roofline scaling and the energy model (docs/profiler.md).
final class DeviceModelTests: XCTestCase {
  /// Host: 100 GFLOP/s, 20 GB/s, 3 GHz. Device: 10 GFLOP/s per core, 5 GB/s, 1.5 GHz, so its
  /// ridge is 10 / 5 = 2 FLOPs per byte.
  let host = HostMeasurements(
    peakGflops: 100, bandwidthGBs: 20, clockGHz: 3, gemmSize: 512, copyBytes: 1 << 20)
  let device = DeviceProfile(
    name: "toy", measured: false, cores: 4, clockGHz: 1.5, peakGflopsPerCore: 10,
    memoryBandwidthGBs: 5, idlePowerW: 2, activePowerPerCoreW: 1, energyPerBytePJ: 100)

  func work(flops: Int, bytes: Int) -> OpWork {
    OpWork(macs: 0, flops: flops, params: 0, weightBytes: 0, inputBytes: bytes, outputBytes: 0)
  }

  func testOpsAboveTheRidgeScaleByPeakBelowByBandwidthAndDataFreeOpsByClock() {
    let model = DeviceModel(device: device, host: host, threads: 1)
    XCTAssertEqual(model.ridge, 2, accuracy: 1e-12)
    let compute = work(flops: 1000, bytes: 100)  // intensity 10 ≥ 2
    let memory = work(flops: 100, bytes: 100)  // intensity 1 < 2
    let free = work(flops: 0, bytes: 0)
    XCTAssertEqual(model.bound(compute), .compute)
    XCTAssertEqual(model.bound(memory), .memory)
    XCTAssertEqual(model.bound(free), .overhead)
    XCTAssertEqual(model.factor(compute), 100.0 / 10, accuracy: 1e-12)
    XCTAssertEqual(model.factor(memory), 20.0 / 5, accuracy: 1e-12)
    XCTAssertEqual(model.factor(free), 3.0 / 1.5, accuracy: 1e-12)
    let s = model.opLatency(host: LatencyStats(count: 50, meanMs: 0.2, varianceMs2: 0.01), work: compute)
    XCTAssertEqual(s.meanMs, 2.0, accuracy: 1e-12)
    XCTAssertEqual(s.varianceMs2, 1.0, accuracy: 1e-12, "variance scales with the factor squared")
    XCTAssertEqual(s.count, 0, "modelled rows were not timed")
  }

  /// With two threads the device's peak doubles (two of its four cores), moving the ridge to 4.
  func testThreadsMultiplyTheDevicePeakUpToItsCoreCount() {
    XCTAssertEqual(DeviceModel(device: device, host: host, threads: 2).peakGflops, 20)
    XCTAssertEqual(DeviceModel(device: device, host: host, threads: 8).peakGflops, 40)
    XCTAssertEqual(DeviceModel(device: device, host: host, threads: 2).ridge, 4)
  }

  func testTheMeasuredHostScalesByOne() {
    var hostDevice = device
    hostDevice.measured = true
    let model = DeviceModel(device: hostDevice, host: host, threads: 1)
    XCTAssertEqual(model.factor(work(flops: 1000, bytes: 100)), 1)
    XCTAssertEqual(model.peakGflops, 100)
    XCTAssertEqual(model.overheadMs(0.5), 0.5)
  }

  /// E = P_idle·t + P_core·t + e·bytes = 2·0.01 + 1·0.01 + 100e-12·1e6 = 0.0301 J.
  func testEnergyAtFullClockIsActivePowerTimesTimePlusBytes() {
    let e = EnergyModel.energyJ(
      device: device, cpuSeconds: 0.01, wallSeconds: 0.01, bytes: 1_000_000, busyCores: 1, clock: 1)
    XCTAssertEqual(e, 0.0301, accuracy: 1e-12)
    let framed = EnergyModel.energyJ(
      device: device, cpuSeconds: 0.01, wallSeconds: 0.01, bytes: 1_000_000, busyCores: 1, clock: 1,
      periodSeconds: 0.1)
    XCTAssertEqual(framed, 0.0301 + 2 * 0.09, accuracy: 1e-12, "idle power over the rest of the period")
  }

  /// Context cpu=0.5, freq=0.5: CPU time 10 ms / 0.5 = 20 ms, wall 20 / 0.5 = 40 ms.
  /// E = 2·0.04 + 1·0.5³·0.02 + 1e-4 = 0.0826 J.
  func testContextStretchesLatencyAndCubesCorePowerWithClock() {
    let model = DeviceModel(device: device, host: host, threads: 1)
    let context = DeviceContext(cpuShare: 0.5, frequencyScale: 0.5)
    let e = DeviceEstimate(
      model: model, nominal: LatencyStats(count: 0, meanMs: 10, varianceMs2: 1),
      bytesMoved: 1_000_000, peakMemoryBytes: 1000, context: context)
    XCTAssertEqual(e.latency.meanMs, 40, accuracy: 1e-9)
    XCTAssertEqual(e.latency.varianceMs2, 16, accuracy: 1e-9)
    XCTAssertEqual(e.cpuMs, 20, accuracy: 1e-9)
    XCTAssertEqual(e.energyMJ!, 82.6, accuracy: 1e-9)
    XCTAssertEqual(e.source, "modelled")
  }

  func testThermalStateActsAsAClockCap() {
    let model = DeviceModel(device: device, host: host, threads: 1)
    let nominal = LatencyStats(count: 0, meanMs: 7, varianceMs2: 0)
    let hot = DeviceEstimate(
      model: model, nominal: nominal, bytesMoved: 0, peakMemoryBytes: 0,
      context: DeviceContext(thermal: .critical))
    XCTAssertEqual(hot.latency.meanMs, 7 / ThermalState.critical.clockFactor, accuracy: 1e-9)
  }

  func testPeakMemoryAboveTheLimitIsInfeasible() {
    let model = DeviceModel(device: device, host: host, threads: 1)
    let nominal = LatencyStats(count: 0, meanMs: 1, varianceMs2: 0)
    let fits = DeviceEstimate(
      model: model, nominal: nominal, bytesMoved: 0, peakMemoryBytes: 1 << 20,
      context: DeviceContext(memoryAvailableMB: 1))
    let tooBig = DeviceEstimate(
      model: model, nominal: nominal, bytesMoved: 0, peakMemoryBytes: (1 << 20) + 1,
      context: DeviceContext(memoryAvailableMB: 1))
    XCTAssertTrue(fits.feasible)
    XCTAssertFalse(tooBig.feasible)
    XCTAssertEqual(tooBig.memoryLimitMB, 1)
  }

  /// 10 Wh at 50 % = 18,000 J; at 0.0301 J per inference that pays for 598,006 inferences.
  func testBatteryLevelCountsTheInferencesTheChargePaysFor() {
    var phone = device
    phone.batteryWh = 10
    let model = DeviceModel(device: phone, host: host, threads: 1)
    let e = DeviceEstimate(
      model: model, nominal: LatencyStats(count: 0, meanMs: 10, varianceMs2: 0),
      bytesMoved: 1_000_000, peakMemoryBytes: 0, context: DeviceContext(batteryLevel: 0.5))
    XCTAssertEqual(e.inferencesOnBattery!, 18_000 / 0.0301, accuracy: 1e-6)
  }
}
