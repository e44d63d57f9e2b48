// The profiler: op signatures, latency probe, lookup table, memory and energy models (issue #5).
