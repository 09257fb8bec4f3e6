package acktest

import "fmt"

// Field is one {id, value} item of a transaction input row.
type Field struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// Transaction builds a TransactionRequest the way HandStack's syn.js sends it
// for service fn of transaction app/project/tx, with one input made of rows.
func Transaction(app, project, tx, fn string, rows ...[]Field) map[string]any {
	set := make([][]Field, 0, len(rows))
	for _, r := range rows {
		if r == nil {
			r = []Field{}
		}
		set = append(set, r)
	}
	counts := []int{}
	if len(rows) > 0 {
		counts = append(counts, len(rows))
	}
	return map[string]any{
		"accessToken": "", "action": "SYN", "kind": "BIZ", "clientTag": "HANDSTACK|WebClient|ack|D",
		"loadOptions": map[string]any{"encryptionType": "P", "encryptionKey": "G", "platform": "Win32"},
		"requestID":   "R-" + tx + fn, "version": "001", "environment": "D",
		"system": map[string]any{
			"programID": app, "moduleID": "wwwroot", "version": "1.0.0",
			"routes":   []any{map[string]any{"systemID": "HANDSTACK", "requestTick": 1741750512000}},
			"localeID": "ko-KR", "hostName": "localhost", "pathName": "/view/" + app + "/" + project + "/" + tx + ".html",
		},
		"interface": map[string]any{"devicePlatform": "browser", "interfaceID": "WEB", "sourceIP": "127.0.0.1", "sourcePort": 0, "timeout": 180000},
		"transaction": map[string]any{
			"globalID": "G-" + tx + fn, "businessID": project, "transactionID": tx, "functionID": fn,
			"commandType": "D", "simulationType": "P", "terminalGroupID": "|", "operatorID": "",
			"screenID": tx, "startTraceID": "", "dataFormat": "J", "compressionYN": "N",
		},
		"payLoad": map[string]any{"property": map[string]any{}, "dataMapInterface": "", "dataMapCount": counts, "dataMapSet": set, "dataMapSetRaw": []any{}},
	}
}

// TransactionResponse is the part of HandStack's answer that tests read.
type TransactionResponse struct {
	Acknowledge   int    `json:"acknowledge"`
	ExceptionText string `json:"exceptionText"`
	ErrorCode     string `json:"errorCode"`
	Result        struct {
		DataSet []struct {
			ID    string `json:"id"`
			Value any    `json:"value"`
		} `json:"dataSet"`
	} `json:"result"`
}

// FormField returns field name of the first Form output (an object) of an
// acknowledged answer, or a text saying why there is none, so that a test can
// compare it with the value it expects.
func (r TransactionResponse) FormField(name string) string {
	if r.Acknowledge != 1 {
		return "acknowledge 0: " + r.ExceptionText
	}
	for _, ds := range r.Result.DataSet {
		if m, ok := ds.Value.(map[string]any); ok {
			return fmt.Sprint(m[name])
		}
	}
	return "no data"
}
