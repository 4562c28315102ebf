// Package decision holds the contract's rule that turns the labels of the
// nearest neighbours into an answer.
package decision

import "strconv"

// Neighbors is the number of nearest references a decision looks at.
const Neighbors = 5

// Decide turns the number of frauds among the Neighbors nearest references
// into the answer: fraud_score = frauds / 5, approved = fraud_score < 0.6.
func Decide(frauds int) (approved bool, score float64) {
	score = float64(frauds) / Neighbors
	return score < 0.6, score
}

// Body returns the JSON answer for a fraud count, as /fraud-score sends it,
// e.g. {"approved":false,"fraud_score":0.6}.
func Body(frauds int) []byte {
	approved, score := Decide(frauds)
	return []byte(`{"approved":` + strconv.FormatBool(approved) + `,"fraud_score":` + strconv.FormatFloat(score, 'f', 1, 64) + `}`)
}
