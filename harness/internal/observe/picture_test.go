package observe

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A fake Prometheus answers every range query with one series per API,
// except CPU, which it has no data for: the picture is drawn, and the
// empty panel is named.
func TestDrawFromRangeQueries(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query().Get("query")
		queries = append(queries, q)
		if strings.Contains(q, "process_cpu_seconds_total") {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			return
		}
		var series []string
		for _, svc := range []string{"api1", "api2"} {
			var pts []string
			for i := range 10 {
				v := "NaN"
				if i > 0 {
					v = fmt.Sprint(i)
				}
				pts = append(pts, fmt.Sprintf(`[%d,"%s"]`, start.Unix()+int64(i), v))
			}
			series = append(series, fmt.Sprintf(`{"metric":{"service":%q},"values":[%s]}`, svc, strings.Join(pts, ",")))
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, strings.Join(series, ","))
	}))
	defer srv.Close()

	base := filepath.Join(t.TempDir(), "run")
	empty, err := Draw(Client{URL: srv.URL}, start, start.Add(10*time.Second), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(empty) != 1 || empty[0] != "CPU per process" {
		t.Errorf("empty panels %q; want only the CPU panel", empty)
	}
	if len(queries) != 5 {
		t.Errorf("%d queries; want 5 (rate, p99, p50, declined share, CPU)", len(queries))
	}
	for _, ext := range []string{".png", ".svg"} {
		if fi, err := os.Stat(base + ext); err != nil || fi.Size() < 1000 {
			t.Errorf("%s%s: %v", base, ext, err)
		}
	}
}

// Prometheus's refusals reach the caller with its reason.
func TestClientReportsRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"parse error: unexpected end of input"}`)
	}))
	defer srv.Close()
	_, err := Client{URL: srv.URL}.Query("sum(", time.Now())
	if err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("got %v; want Prometheus's parse error", err)
	}
}
