// Package e2e holds the end-to-end tests: what must hold of the
// deployment as a whole, beyond any one package.
//
// Without a running stack they check the deployment's files against each
// other: nginx refuses the same bodies the API does, and both compose
// files keep the budget (1 CPU, 350 MB in all) and the container rules.
//
// With FRAUDKNN_URL pointing at a running stack (nginx and both APIs over
// the real artifact) they also send SPEC.md's examples, the bad-input
// table and the whole bad-input matrix through nginx; with
// FRAUDKNN_OPERATORS naming the APIs' operator listeners they also ask
// those for explanations:
//
//	make run &
//	FRAUDKNN_URL=http://127.0.0.1:9999 FRAUDKNN_OPERATORS=127.0.0.1:9101,127.0.0.1:9102 go -C harness test -count=1 -v ./e2e
//
// CI runs both.
package e2e
