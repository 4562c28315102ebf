//go:build !(amd64 || arm64) || !gc || purego

package knn

// kernels is the kernel set searches use: without assembly, the pure-Go one.
var kernels = &generic

// kernelSets lists every kernel set this build can run here.
func kernelSets() []*kernelSet { return []*kernelSet{&generic} }
