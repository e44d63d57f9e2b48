// The AdaRuntime module: see docs/architecture.md.
