package sync

import "context"

// observed: placeholder until netboxsdk's response observer lands (branch changelog).
func (j *job) observed(ctx context.Context) context.Context { return ctx }
