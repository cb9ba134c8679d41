package pvetypes

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBoolOf: a decoded value reads like the same JSON into Bool.
func TestBoolOf(t *testing.T) {
	for _, raw := range []string{`true`, `false`, `null`, `0`, `1`, `2`, `-1`, `0.0`, `0.5`, `"1"`, `"0"`, `""`, `" 1 "`,
		`"true"`, `"True"`, `"FALSE"`, `"yes"`, `"No"`, `"on"`, `"OFF"`, `"2"`, `"1e3"`, `"0x1"`, `"maybe"`, `"enabled=1"`, `{}`, `[]`, `"NaN"`} {
		var want Bool
		werr := json.Unmarshal([]byte(raw), &want)
		var v any
		require.NoError(t, json.Unmarshal([]byte(raw), &v))
		got, err := BoolOf(v)
		if werr != nil {
			assert.Error(t, err, "%s: Bool refuses it, BoolOf must too", raw)
			assert.False(t, Truthy(v), raw)
			continue
		}
		require.NoError(t, err, raw)
		assert.Equal(t, bool(want), got, raw)
		assert.Equal(t, bool(want), Truthy(v), raw)

		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var n any
		require.NoError(t, dec.Decode(&n))
		got, err = BoolOf(n)
		require.NoError(t, err, "%s (json.Number)", raw)
		assert.Equal(t, bool(want), got, "%s (json.Number)", raw)
	}
	for _, v := range []any{3, int64(0), int32(1), uint(0), uint64(7), float32(0.5), Bool(true)} {
		_, err := BoolOf(v)
		assert.NoError(t, err, "%T", v)
	}
	assert.True(t, Truthy(3))
	assert.False(t, Truthy(uint(0)))
	_, err := BoolOf(math.NaN())
	assert.Error(t, err)
	_, err = BoolOf(struct{}{})
	assert.Error(t, err)
}

// TestFloatOf: a decoded value reads like the same JSON into Float.
func TestFloatOf(t *testing.T) {
	for _, raw := range []string{`true`, `false`, `null`, `0`, `1.5`, `-2`, `1e3`, `""`, `" 42 "`, `"1.25"`, `"True"`, `"1e400"`,
		`"0x10"`, `"12abc"`, `"NaN"`, `"Inf"`, `{}`, `[]`, `123456789012345678`} {
		var want Float
		werr := json.Unmarshal([]byte(raw), &want)
		var v any
		require.NoError(t, json.Unmarshal([]byte(raw), &v))
		got, err := FloatOf(v)
		if werr != nil {
			assert.Error(t, err, "%s: Float refuses it, FloatOf must too", raw)
			continue
		}
		require.NoError(t, err, raw)
		assert.InDelta(t, float64(want), got, 1e-9, raw)
	}
	for _, v := range []any{3, int64(-4), int32(1), uint(0), uint64(7), float32(0.5), Float(2)} {
		_, err := FloatOf(v)
		assert.NoError(t, err, "%T", v)
	}
	_, err := FloatOf(math.Inf(1))
	assert.Error(t, err)
	_, err = FloatOf(struct{}{})
	assert.Error(t, err)
}
