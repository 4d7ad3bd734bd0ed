package load

import "testing"

func TestBodyRoundTrip(t *testing.T) {
	tests := []struct {
		name            string
		step, seq, pad  int
		t               int64
		wrapPre, wrapPo string
	}{
		{name: "kuzzle notification", step: 2, seq: 17, t: 1795943744577000001, pad: 60,
			wrapPre: `{"type":"document","result":{"_source":`, wrapPo: `},"room":"x-1"}`},
		{name: "centrifugo push", step: 0, seq: 0, t: 5, pad: 0,
			wrapPre: `{"push":{"channel":"bench-c","pub":{"data":`, wrapPo: `}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := append([]byte(tt.wrapPre), AppendBody(nil, tt.step, tt.seq, tt.t, tt.pad)...)
			m = append(m, tt.wrapPo...)
			step, seq, ts, ok := ParseBody(m)
			if !ok || step != tt.step || seq != tt.seq || ts != tt.t {
				t.Fatalf("ParseBody = %d %d %d %v, want %d %d %d true", step, seq, ts, ok, tt.step, tt.seq, tt.t)
			}
		})
	}
	if _, _, _, ok := ParseBody([]byte(`{"room":"r","result":{"now":1}}`)); ok {
		t.Fatal("ParseBody found a document in a response")
	}
}
