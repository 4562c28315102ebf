package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"fraudknn/internal/dataset"
	"fraudknn/internal/server"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// Explain writes the explained answers of entries to w, one JSON object a
// line: the entry's index and request id, the answer the payload file
// expects, and under "answer" exactly what POST /fraud-score/explain would
// send for it (server.AppendExplanation). An entry that does not vectorize
// gets its error instead of an answer. It returns how many did not.
func Explain(ix *knn.Index, entries []dataset.Entry, w io.Writer) (failed int, err error) {
	s := knn.NewSearcher(ix, Neighbors)
	var r knn.Result
	var line []byte
	for i, e := range entries {
		line = fmt.Appendf(line[:0], `{"entry":%d,"id":%s,"expected_approved":%v,"expected_fraud_score":%s,`,
			i, jsonString(requestID(e.Request)), e.ExpectedApproved, strconv.FormatFloat(e.ExpectedFraudScore, 'f', 1, 64))
		v, verr := vectorize.Vectorize(e.Request)
		if verr != nil {
			failed++
			line = append(line, `"error":`...)
			line = append(line, jsonString(verr.Error())...)
		} else {
			s.Search((*[vector.Dims]int16)(&v), &r)
			line = append(line, `"answer":`...)
			line = server.AppendExplanation(line, &v, &r)
		}
		line = append(line, "}\n"...)
		if _, err := w.Write(line); err != nil {
			return failed, err
		}
	}
	return failed, nil
}

// jsonString returns s as a JSON string.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
