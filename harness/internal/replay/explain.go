package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"fraudknn/internal/payloads"
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
func Explain(ix *knn.Index, entries []payloads.Entry, w io.Writer) (failed int, err error) {
	s := knn.NewSearcher(ix, Neighbors)
	var r knn.Result
	var line []byte
	for i, e := range entries {
		line = explainHead(line[:0], i, e)
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

// ExplainHTTP writes the same lines as Explain, with each answer asked of
// a running API's operator listener at url (POST url/fraud-score/explain;
// the public port does not explain). An entry the API does not answer
// with 200 gets the status and body as its error. It returns how many
// did not, and stops at the first transport error.
func ExplainHTTP(url string, entries []payloads.Entry, w io.Writer) (failed int, err error) {
	client := &http.Client{Timeout: 5 * time.Second}
	var line []byte
	for i, e := range entries {
		resp, err := client.Post(url+server.ExplainPath, "application/json", bytes.NewReader(e.Request))
		if err != nil {
			return failed, fmt.Errorf("entry %d: %w (is %s an API's operator listener, cmd/api -operator?)", i, err, url)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return failed, fmt.Errorf("entry %d: %w", i, err)
		}
		line = explainHead(line[:0], i, e)
		if resp.StatusCode == http.StatusOK && json.Valid(body) {
			line = append(line, `"answer":`...)
			line = append(line, body...)
		} else {
			failed++
			line = append(line, `"error":`...)
			line = append(line, jsonString(fmt.Sprintf("%s: %d %s", url+server.ExplainPath, resp.StatusCode, body))...)
		}
		line = append(line, "}\n"...)
		if _, err := w.Write(line); err != nil {
			return failed, err
		}
	}
	return failed, nil
}

// explainHead appends the start of entry i's line: its index, request id
// and expected answer.
func explainHead(line []byte, i int, e payloads.Entry) []byte {
	return fmt.Appendf(line, `{"entry":%d,"id":%s,"expected_approved":%v,"expected_fraud_score":%s,`,
		i, jsonString(requestID(e.Request)), e.ExpectedApproved, strconv.FormatFloat(e.ExpectedFraudScore, 'f', 1, 64))
}

// jsonString returns s as a JSON string.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
