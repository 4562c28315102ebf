package decision

import (
	"encoding/json"
	"testing"
)

func TestDecide(t *testing.T) {
	for frauds, want := range []struct {
		approved bool
		score    float64
	}{{true, 0}, {true, 0.2}, {true, 0.4}, {false, 0.6}, {false, 0.8}, {false, 1}} {
		approved, score := Decide(frauds)
		if approved != want.approved || score != want.score {
			t.Errorf("Decide(%d) = %v, %v; want %v, %v", frauds, approved, score, want.approved, want.score)
		}
		var got struct {
			Approved   *bool    `json:"approved"`
			FraudScore *float64 `json:"fraud_score"`
		}
		if err := json.Unmarshal(Body(frauds), &got); err != nil || got.Approved == nil || got.FraudScore == nil ||
			*got.Approved != want.approved || *got.FraudScore != want.score {
			t.Errorf("Body(%d) = %s", frauds, Body(frauds))
		}
	}
	if string(Body(3)) != `{"approved":false,"fraud_score":0.6}` {
		t.Errorf("Body(3) = %s", Body(3))
	}
}
