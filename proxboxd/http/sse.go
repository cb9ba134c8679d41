package http

import (
	"net/http"

	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

// The stage streams are written by the plugin contract's writer
// (contract.Writer): these names keep the http package's spelling.
type (
	// SSE writes one stream in the plugin's framing.
	SSE = contract.Writer
	// CompletePayload is the body of a stream's single `complete` frame.
	CompletePayload = contract.CompletePayload
	// ErrorItem is one entry of complete.errors.
	ErrorItem = contract.ErrorItem
)

// NewSSE starts a stream on w (status 200) and flushes the headers.
func NewSSE(w http.ResponseWriter) *SSE { return contract.NewWriter(w) }
