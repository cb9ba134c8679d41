package sync

import (
	"testing"

	"github.com/stretchr/testify/assert"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// Every stage the plugin knows has exactly one implementation in the registry.
func TestRegistryCoversEveryStage(t *testing.T) {
	assert.Len(t, registry, len(proxbox.Stages))
	for _, s := range proxbox.Stages {
		def, ok := registry[s]
		if assert.True(t, ok, "stage %s has no entry", s) {
			assert.NotNil(t, def.run, "stage %s", s)
		}
	}
}
