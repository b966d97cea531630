// @pixsearch/core/clip — CLIP embedder on onnxruntime-node + sharp (loads native modules).
export {};
