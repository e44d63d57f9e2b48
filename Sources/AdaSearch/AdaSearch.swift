// The AdaSearch module: see docs/architecture.md.
