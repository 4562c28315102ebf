package fdpass

import (
	"fmt"
	"io"
)

// WritePrometheus writes the balancer's counters in Prometheus's text
// format (version 0.0.4). Every refusal reason is written, at 0 too, so
// that a rate over it exists before the first refusal.
func (b *Balancer) WritePrometheus(w io.Writer) {
	fmt.Fprintf(w, "# HELP fraudknn_lb_connections_handed_total Client connections handed to an API.\n"+
		"# TYPE fraudknn_lb_connections_handed_total counter\n"+
		"fraudknn_lb_connections_handed_total %d\n", b.Handed.Load())
	fmt.Fprintf(w, "# HELP fraudknn_lb_connections_dropped_total Client connections closed because no API registered in time.\n"+
		"# TYPE fraudknn_lb_connections_dropped_total counter\n"+
		"fraudknn_lb_connections_dropped_total %d\n", b.Dropped.Load())
	fmt.Fprintf(w, "# HELP fraudknn_lb_backends APIs registered now.\n"+
		"# TYPE fraudknn_lb_backends gauge\n"+
		"fraudknn_lb_backends %d\n", b.APIs())
	fmt.Fprint(w, "# HELP fraudknn_lb_registrations_refused_total Registrations refused, by reason: uid (not the trusted uid), full (as many APIs as -backends), credentials (unreadable).\n"+
		"# TYPE fraudknn_lb_registrations_refused_total counter\n")
	for i, name := range ReasonNames {
		fmt.Fprintf(w, "fraudknn_lb_registrations_refused_total{reason=%q} %d\n", name, b.Refused[i].Load())
	}
}
