// @pixsearch/core/testing — the VectorIndex conformance suite and test data helpers.
export {};
