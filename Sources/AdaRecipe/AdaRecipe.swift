// The AdaRecipe module: see docs/architecture.md.
