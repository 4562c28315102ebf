package main

import (
	"fmt"
	"strings"

	"fraudknn/internal/dataset"
)

// defaultOut is where the artifact goes without -out, and where cmd/api
// and the Makefile look for it.
const defaultOut = "build/index.fknn"

// findRefs returns the reference file to read: the one -refs names, else
// the first found where the Makefile looks. When there is none, the error
// says every place looked and where the file comes from.
func findRefs(flagged string) (string, error) {
	if flagged != "" {
		return flagged, nil
	}
	path, looked := dataset.FindReferences()
	if path != "" {
		return path, nil
	}
	return "", fmt.Errorf("no reference file: looked for %s\n"+
		"  (the shared data folder is $%s when set, else ../shared/data beside the repository).\n"+
		"  references.json.gz is published with the Rinha de Backend 2026 contest: put it in resources/\n"+
		"  or in the shared data folder, or name it with -refs PATH",
		strings.Join(looked, " and "), dataset.EnvDir)
}
