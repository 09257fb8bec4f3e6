package peer

import "context"

// GlobalIDHeader carries the transaction's global ID on every call to a peer,
// so that logs on both sides can be joined.
const GlobalIDHeader = "X-Global-ID"

type globalIDKey struct{}

// WithGlobalID returns ctx carrying id, sent as GlobalIDHeader on peer calls.
func WithGlobalID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, globalIDKey{}, id)
}

// GlobalID returns the ID stored by WithGlobalID, or "".
func GlobalID(ctx context.Context) string {
	id, _ := ctx.Value(globalIDKey{}).(string)
	return id
}
