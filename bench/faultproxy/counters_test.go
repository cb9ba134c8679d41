package faultproxy

import (
	"net/http"
	"testing"
)

func TestCountersAddAndSub(t *testing.T) {
	a := Counters{Requests: 3, ByMethod: map[string]int{http.MethodGet: 2, http.MethodPost: 1}, Faults: map[Kind]int{}}
	b := Counters{Requests: 2, Retries: 1, ByMethod: map[string]int{http.MethodGet: 1, http.MethodDelete: 1}}
	s := a.Add(b)
	if s.Requests != 5 || s.Retries != 1 || s.ByMethod[http.MethodGet] != 3 || s.Writes() != 2 {
		t.Fatalf("sum %+v", s)
	}
	if d := s.Sub(b); d.Requests != 3 || d.ByMethod[http.MethodGet] != 2 || d.Writes() != 1 {
		t.Fatalf("sum minus b %+v", d)
	}
}
