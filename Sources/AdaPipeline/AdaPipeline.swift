// The AdaPipeline module: see docs/architecture.md.
