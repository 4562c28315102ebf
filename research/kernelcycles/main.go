// Command kernelcycles estimates what each assembly kernel of package knn
// costs per block on CPUs this machine does not have, with LLVM's
// machine-code analyzer (llvm-mca): the NEON kernels on Arm Neoverse
// cores, the AVX2 ones on x86 cores for comparison.
//
//	go -C research run ./kernelcycles [-mca llvm-mca-19] [-objdump llvm-objdump-19]
//
// It builds knn's test binary for arm64 and for amd64, disassembles each
// kernel, follows one step of its loop on the path a search takes most
// (no member passes; for the scan, every partial sum under the bound
// until the end, and separately the group left after the first check),
// and has llvm-mca run that path 200 times on each CPU's scheduling
// model. The cycles are a throughput estimate with every load hitting
// L1: they compare kernels, not searches, which wait for memory. LLVM 19
// models Neoverse N1, N2, V1 and V2; its "apple-m1" is the 2013 Cyclone
// model, which undercounts an M1's SIMD pipes. Debian 12 ships it as
// llvm-19 (apt-get install llvm-19).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// kernel is one assembly function pair and the path to follow.
type kernel struct {
	name  string // the common stem of the NEON and AVX2 function names
	block string
	// exitFirst follows the loop's first forward branch (the scan's
	// first early exit; nearestTwo's "nothing below the second best").
	exitFirst bool
	steps     map[string]float64 // loop steps per block, per kernel set
}

var kernels = []kernel{
	{"scanBlock", "16 vectors, all 14 dimensions", false, nil},
	{"scanBlock", "16 vectors, left after the first pair", true, nil},
	{"boxBounds", "16 boxes", false, nil},
	{"centroidDists", "64 centroids", false, map[string]float64{"NEON": 2, "AVX2": 1}},
	{"nearestTwo", "8 values, none below the second best", true, nil},
}

var cpus = map[string][]string{
	"NEON": {"neoverse-n1", "neoverse-n2", "neoverse-v1", "neoverse-v2", "apple-m1"},
	"AVX2": {"haswell", "skylake", "znver3"},
}

func main() {
	mca := flag.String("mca", "llvm-mca-19", "llvm-mca, version 19 or later (Neoverse models)")
	objdump := flag.String("objdump", "llvm-objdump-19", "llvm-objdump")
	repo := flag.String("repo", "..", "the product module (where knn is)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "kernelcycles")
	check(err)
	defer os.RemoveAll(dir)
	bins := map[string]string{"NEON": "arm64", "AVX2": "amd64"}
	for set, arch := range bins {
		bin := filepath.Join(dir, "knn."+arch)
		cmd := exec.Command("go", "-C", *repo, "test", "-c", "-o", bin, "./knn")
		cmd.Env = append(os.Environ(), "GOARCH="+arch)
		cmd.Stderr = os.Stderr
		check(cmd.Run())
		bins[set] = bin
	}
	fmt.Println("| kernel | block | kernels | instructions | cycles per block (llvm-mca) |")
	fmt.Println("|---|---|---|---:|---|")
	for _, k := range kernels {
		for _, set := range []string{"NEON", "AVX2"} {
			ins, err := disassemble(*objdump, bins[set], "fraudknn/knn."+k.name+set+".abi0")
			check(err)
			path, err := loopPath(ins, k.exitFirst)
			check(err)
			steps := 1.0
			if k.steps != nil {
				steps = k.steps[set]
			}
			var cells []string
			for _, cpu := range cpus[set] {
				c, err := cycles(*mca, path, set, cpu)
				check(err)
				cells = append(cells, fmt.Sprintf("%s %.0f", cpu, c*steps))
			}
			fmt.Printf("| %s | %s | %s | %.0f | %s |\n", k.name, k.block, set, float64(len(path))*steps, strings.Join(cells, ", "))
		}
	}
}

// insn is one disassembled instruction.
type insn struct {
	addr   uint64
	text   string
	target uint64 // a branch's target, else 0
}

var (
	insnLine   = regexp.MustCompile(`^\s+([0-9a-f]+):\s+(.+)$`)
	targetText = regexp.MustCompile(`0x([0-9a-f]+) <[^>]*>`)
	branch     = regexp.MustCompile(`^(b\.|b\s|cbz|cbnz|j[a-z]+\s)`)
	uncond     = regexp.MustCompile(`^(b\s|jmp\s)`)
)

func disassemble(objdump, bin, sym string) ([]insn, error) {
	out, err := exec.Command(objdump, "-d", "--no-show-raw-insn", "--disassemble-symbols="+sym, bin).Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", objdump, bin, err)
	}
	var ins []insn
	for _, line := range strings.Split(string(out), "\n") {
		m := insnLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		a, _ := strconv.ParseUint(m[1], 16, 64)
		i := insn{addr: a, text: strings.TrimSpace(m[2])}
		if t := targetText.FindStringSubmatch(i.text); t != nil && branch.MatchString(i.text) {
			i.target, _ = strconv.ParseUint(t[1], 16, 64)
		}
		ins = append(ins, i)
	}
	if len(ins) == 0 {
		return nil, fmt.Errorf("no %s in %s", sym, bin)
	}
	return ins, nil
}

// loopPath returns the instructions of one step of the function's main
// loop (from the target of its last backward conditional branch to that
// branch) on the no-candidate path: a candidate loop (a backward
// unconditional jump inside the step) is kept only up to its first
// branch, its empty test. With exitFirst, the step's first forward
// branch is taken.
func loopPath(ins []insn, exitFirst bool) ([]string, error) {
	index := map[uint64]int{}
	for i, x := range ins {
		index[x.addr] = i
	}
	last := -1
	for i, x := range ins {
		if x.target != 0 && x.target < x.addr && !uncond.MatchString(x.text) {
			last = i
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("no loop")
	}
	start := index[ins[last].target]
	skip := map[int]bool{}
	for i := start; i < last; i++ {
		if x := ins[i]; uncond.MatchString(x.text) && x.target != 0 && x.target < x.addr {
			k := index[x.target]
			for !branch.MatchString(ins[k].text) {
				k++
			}
			for j := k + 1; j <= i; j++ {
				skip[j] = true
			}
		}
	}
	var path []string
	for i := start; i <= last; i++ {
		if skip[i] {
			continue
		}
		x := ins[i]
		path = append(path, targetText.ReplaceAllString(x.text, "L"))
		if exitFirst && x.target > x.addr {
			exitFirst = false
			i = index[x.target] - 1
		}
	}
	return path, nil
}

var totalCycles = regexp.MustCompile(`Total Cycles:\s+(\d+)`)

// cycles runs the path through llvm-mca and returns its cycles per step.
func cycles(mca string, path []string, set, cpu string) (float64, error) {
	const iterations = 200
	triple := map[string]string{"NEON": "aarch64", "AVX2": "x86_64"}[set]
	cmd := exec.Command(mca, "-mtriple="+triple, "-mcpu="+cpu, fmt.Sprintf("-iterations=%d", iterations))
	cmd.Stdin = strings.NewReader("L:\n" + strings.Join(path, "\n") + "\n")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s -mcpu=%s: %v: %s", mca, cpu, err, stderr.String())
	}
	m := totalCycles.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, fmt.Errorf("%s -mcpu=%s: no total cycles in its report", mca, cpu)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return float64(n) / iterations, nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "kernelcycles: %v\n", err)
		os.Exit(1)
	}
}
