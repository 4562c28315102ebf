package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The drill reads its limit from the rules the repository ships, so a
// change of the alert's `for` changes what the drill accepts.
func TestRuleForReadsTheRules(t *testing.T) {
	d, err := ruleFor("../../../observe/alerts.yml", drillAlert)
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 || d > time.Minute {
		t.Errorf("%s's for is %v; the drill expects seconds", drillAlert, d)
	}
	rules := filepath.Join(t.TempDir(), "alerts.yml")
	os.WriteFile(rules, []byte("groups:\n  - name: x\n    rules:\n      - alert: "+drillAlert+"\n        expr: up == 0\n        for: 45s\n"), 0o644)
	if d, err := ruleFor(rules, drillAlert); err != nil || d != 45*time.Second {
		t.Errorf("got %v, %v; want 45s", d, err)
	}
	if _, err := ruleFor(rules, "NoSuchAlert"); err == nil {
		t.Error("an alert the file lacks was found")
	}
}
