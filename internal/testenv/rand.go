package testenv

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// EnvSeed names the environment variable that, when set, replaces the
// seed of every randomized test that draws its cases from Rand.
const EnvSeed = "FRAUDKNN_SEED"

// Rand returns a generator that draws a test's random cases from seed, or
// from $FRAUDKNN_SEED when that is set, so other cases can be tried and
// any failure drawn again. If the test fails, it says which seed it used
// and how to draw the same cases. The test must draw its cases in a fixed
// order (never while ranging over a map) for the seed to reproduce them.
func Rand(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	if s := os.Getenv(EnvSeed); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not a seed: want a decimal unsigned integer", EnvSeed, s)
		}
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s drew its random cases from seed %d; %s=%d go test -run '^%s$' draws them again", t.Name(), seed, EnvSeed, seed, t.Name())
		}
	})
	return rand.New(rand.NewPCG(seed, seed))
}
