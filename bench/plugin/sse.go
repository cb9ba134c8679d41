// Package plugin replays what the netbox-proxbox plugin sends to its backend
// (plugin-contract.md §2.1, §2.3, §3, §4) and reads the answers as the
// plugin does. The stage table, the stage query and the reading of a stage
// stream (requests' iter_lines, the plugin's SSE frame rules, its
// `complete` model and its success mapping) are proxboxd/contract's, the
// one copy of those rules; this package adds the plugin's requests, retries
// and bookkeeping. The e2e tests and the scenario benchmark drive proxboxd
// through it when the real plugin is not installed.
package plugin

import "github.com/proxbox-go/proxbox/proxboxd/contract"

type (
	// Frame is one SSE frame as the plugin sees it.
	Frame = contract.Frame
	// Complete is a validated `complete` frame.
	Complete = contract.Complete
	// Stage is one of the plugin's 12 sync stages.
	Stage = contract.Stage
	// Settings are the plugin settings that become the base query.
	Settings = contract.Settings
)

// Stages are the plugin's stages in its dependency order, with what a Full
// update job ("all") adds to each.
var Stages = contract.Stages

// StageBySlug returns the stage named slug.
func StageBySlug(slug string) (Stage, bool) { return contract.BySlug(slug) }

// DefaultSettings are the plugin's defaults.
func DefaultSettings() Settings { return contract.DefaultSettings() }
