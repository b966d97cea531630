// @pixsearch/core/model-generator — writes CLIP-architecture ONNX bundles with seeded random weights.
export {};
