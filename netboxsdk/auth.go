package netboxsdk

import (
	"bytes"
	"strings"
)

const v2Prefix = "nbt_"

// TokenVersion reports whether t is a v1 or a v2 (nbt_<key>.<secret>) token.
func TokenVersion(t string) int {
	if isV2Token(t) {
		return 2
	}
	return 1
}

func isV2Token(t string) bool {
	if !strings.HasPrefix(t, v2Prefix) {
		return false
	}
	key, secret, ok := strings.Cut(t[len(v2Prefix):], ".")
	return ok && key != "" && secret != ""
}

// authHeader returns the Authorization header value for token t ("" for no token).
func authHeader(t string) string {
	switch {
	case t == "":
		return ""
	case isV2Token(t):
		return "Bearer " + t
	default:
		return "Token " + t
	}
}

// cleanToken removes characters that would allow header injection.
func cleanToken(t string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return -1
		}
		return r
	}, strings.TrimSpace(t))
}

const redacted = "[REDACTED]"

// redactor removes every occurrence of the token (and of its v2 secret part)
// from text destined for errors and logs.
type redactor struct{ secrets [][]byte }

func newRedactor(token string) redactor {
	var r redactor
	if token == "" {
		return r
	}
	r.secrets = append(r.secrets, []byte(token))
	if isV2Token(token) {
		_, secret, _ := strings.Cut(token, ".")
		if len(secret) >= 8 {
			r.secrets = append(r.secrets, []byte(secret))
		}
	}
	return r
}

func (r redactor) bytes(b []byte) []byte {
	for _, s := range r.secrets {
		if bytes.Contains(b, s) {
			b = bytes.ReplaceAll(b, s, []byte(redacted))
		}
	}
	return b
}

func (r redactor) string(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, string(sec)) {
			s = strings.ReplaceAll(s, string(sec), redacted)
		}
	}
	return s
}
