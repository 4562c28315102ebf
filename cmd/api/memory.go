package main

import (
	"flag"
	"log"
	"math"
	"os"
	"runtime/debug"

	"fraudknn/internal/memlimit"
)

// planMemory fits the instance to its memory: from -memory-limit, else
// the limit of the cgroup it runs in, it sets the Go runtime's memory
// limit (unless GOMEMLIMIT did) and bounds the connections served at
// once (-max-conns) to what that memory holds. An artifact that leaves
// too little stops the program (exit 1).
func planMemory(artifactBytes int64, logger *log.Logger) memlimit.Plan {
	budget, from := int64(0), "-memory-limit"
	if *memoryLimit != "" {
		b, err := memlimit.Parse(*memoryLimit)
		if err != nil {
			logger.Printf("-memory-limit: %v", err)
			os.Exit(2)
		}
		budget = b
	} else {
		b, file, err := memlimit.Cgroup()
		if err != nil {
			logger.Printf("WARNING: %v; serving as if there were no memory limit", err)
		}
		budget, from = b, file
	}
	goLimit := int64(0)
	if os.Getenv("GOMEMLIMIT") != "" {
		goLimit = debug.SetMemoryLimit(-1) // the runtime read it at start
	}
	plan, err := memlimit.New(budget, artifactBytes, goLimit, *maxConns)
	if err != nil {
		logger.Printf("cannot serve: %v", err)
		os.Exit(1)
	}
	if goLimit == 0 && plan.GoLimit != math.MaxInt64 {
		debug.SetMemoryLimit(plan.GoLimit)
	}
	switch {
	case goLimit != 0:
		logger.Printf("memory: GOMEMLIMIT; %v", plan)
	case budget > 0:
		logger.Printf("memory: limit from %s; %v", from, plan)
	default:
		logger.Printf("memory: %v", plan)
	}
	if plan.Capped && flagGiven("max-conns") {
		logger.Printf("memory: -max-conns %d lowered to %d, the connections that memory holds", *maxConns, plan.MaxConns)
	}
	return plan
}

// flagGiven reports whether the command line set the flag name.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
