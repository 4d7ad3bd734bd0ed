package load

import (
	"bytes"
	"strconv"
)

// AppendBody appends the published document: the step and sequence numbers and the wall-clock
// send time t (time.Now().UnixNano(), comparable across processes, unlike a monotonic
// reading), padded with pad bytes of filler so the document is 100-200 B.
func AppendBody(b []byte, step, seq int, t int64, pad int) []byte {
	b = append(b, `{"bstep":`...)
	b = strconv.AppendInt(b, int64(step), 10)
	b = append(b, `,"bseq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"bt":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"pad":"`...)
	for range pad {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// ParseBody finds the fields written by AppendBody anywhere in a notification m (the
// document sits at result._source for Kuzzle, push.pub.data for Centrifugo). ok is false when
// m carries no such document.
func ParseBody(m []byte) (step, seq int, t int64, ok bool) {
	s, ok1 := intAfter(m, `"bstep":`)
	q, ok2 := intAfter(m, `"bseq":`)
	t, ok3 := intAfter(m, `"bt":`)
	return int(s), int(q), t, ok1 && ok2 && ok3
}

func intAfter(m []byte, key string) (int64, bool) {
	i := bytes.Index(m, []byte(key))
	if i < 0 {
		return 0, false
	}
	j := i + len(key)
	k := j
	for k < len(m) && (m[k] >= '0' && m[k] <= '9' || m[k] == '-') {
		k++
	}
	v, err := strconv.ParseInt(string(m[j:k]), 10, 64)
	return v, err == nil
}
