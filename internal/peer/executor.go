package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
)

// httpExecutor runs DynamicRequests on a remote module: HandStack's wire
// protocol (POST the request as JSON, a DynamicResponse comes back).
type httpExecutor struct {
	c    *client
	path string // "/dbclient/api/query", or a RoutingCommandUri's path
}

var _ module.Executor = (*httpExecutor)(nil)

// Execute posts req and decodes the answer. An in-band failure (Acknowledge
// 0) is a response, not an error.
func (e *httpExecutor) Execute(ctx context.Context, req *wire.DynamicRequest) (*wire.DynamicResponse, error) {
	if GlobalID(ctx) == "" && req.GlobalID != "" {
		ctx = WithGlobalID(ctx, req.GlobalID)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("peer %s: encode request: %w", e.c.target, err)
	}
	data, ep, err := e.c.post(ctx, e.path, body)
	if err != nil {
		return nil, err
	}
	resp, err := decodeResponse(req.ReturnType, data)
	if err != nil {
		return nil, &Error{Target: e.c.target, Endpoint: ep, Code: CodeBadResponse, Err: err}
	}
	return resp, nil
}

// decodeResponse reads an executor's answer. For ReturnType Xml HandStack
// executors answer the XML text itself, which becomes ResultObject: the only
// content such an answer can carry.
func decodeResponse(rt wire.ReturnType, data []byte) (*wire.DynamicResponse, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if rt == wire.ReturnXML {
			return &wire.DynamicResponse{Acknowledge: 1, ResultObject: string(data), Informations: []string{}, ResultMeta: []string{}}, nil
		}
		return nil, fmt.Errorf("answer is not a JSON object")
	}
	var resp wire.DynamicResponse
	if err := json.Unmarshal(trimmed, &resp); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return &resp, nil
}
