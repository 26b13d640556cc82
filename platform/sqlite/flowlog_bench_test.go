package sqlite

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/platform"
)

// benchFlowRecord is what one successful authorize writes: steps 6–12 with their masked
// exchanges, the host's token pair and the consent.
func benchFlowRecord(id string) platform.FlowRecord {
	t := t0
	body := json.RawMessage(`{"access_token":"abcd…[43]","refresh_token":"wxyz…[43]","token_type":"Bearer","expires_in":3600}`)
	var steps []contract.FlowStep
	for n := 6; n <= 12; n++ {
		steps = append(steps, contract.FlowStep{Step: n, Actor: "platform → hostapp", Call: "POST /boxo/connect/access-token", Status: 200,
			StartedAt: t, DurationMS: 0.4, Outcome: contract.OutcomeOK,
			Request:  &contract.Exchange{Headers: map[string]string{"Authorization": "Token abcd…[40]", "Content-Type": "application/json"}, Body: body},
			Response: &contract.Exchange{Headers: map[string]string{"Content-Type": "application/json"}, Body: body}})
	}
	return platform.FlowRecord{FlowID: id, ClientID: "352131", AppID: "app16973", UserReference: "ref-1", StartedAt: t, CodeHash: "h" + id,
		Steps:      steps,
		HostTokens: &platform.HostTokens{ClientID: "352131", AppID: "app16973", Reference: "ref-1", AccessToken: "a", RefreshToken: "r", UpdatedAt: t},
		Consent:    &platform.Consent{ClientID: "352131", AppID: "app16973", UserReference: "ref-1", Fields: []string{"email"}, GrantedAt: t}}
}

// BenchmarkRecordFlow measures the platform's flow log write of one authorize, one at a
// time and 32 at a time (where group commit shares transactions).
func BenchmarkRecordFlow(b *testing.B) {
	db := openTestDB(b)
	var n atomic.Int64
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := db.RecordFlow(b.Context(), benchFlowRecord(fmt.Sprint("s", n.Add(1)))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := db.RecordFlow(b.Context(), benchFlowRecord(fmt.Sprint("p", n.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
