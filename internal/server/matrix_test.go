package server

import (
	"testing"

	"fraudknn/internal/testenv"
)

func TestMatrix(t *testing.T) {
	_, c, _ := serve(t, true)
	do := func(method, path, contentType, body string) (int, string) {
		code, b, _ := doCT(t, c, method, path, contentType, body)
		return code, b
	}
	_, base := do("POST", "/fraud-score", "application/json", testenv.SpecLegit)
	rows := testenv.Matrix(testenv.SpecLegit)
	for _, row := range rows {
		testenv.CheckRow(t, row, base, do)
	}
	if len(rows) < 80 {
		t.Fatalf("the matrix has only %d rows", len(rows))
	}
}
