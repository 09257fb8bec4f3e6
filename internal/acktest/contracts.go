package acktest

import (
	"fmt"
	"strings"
)

// Statement is one statement of a test SQL contract: its ServiceID and SQL.
type Statement struct {
	ID, SQL string
}

// SQLContract returns a HandStack SQL contract (contracts/dbclient/...) for
// transaction app/project/tx on data source ds, each statement at seq 0.
func SQLContract(app, project, tx, ds string, stmts ...Statement) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<mapper xmlns="contract.xsd">
    <header>
        <application>%s</application>
        <project>%s</project>
        <transaction>%s</transaction>
        <datasource>%s</datasource>
        <use>Y</use>
        <desc>test contract</desc>
    </header>
    <commands>
`, app, project, tx, ds)
	for _, s := range stmts {
		fmt.Fprintf(&b, "        <statement id=%q seq=\"0\" use=\"Y\" timeout=\"0\" desc=\"test\">\n            %s\n        </statement>\n", s.ID, s.SQL)
	}
	b.WriteString("    </commands>\n</mapper>\n")
	return b.String()
}

// TransactionContract returns a HandStack transaction contract
// (contracts/transact/...) for app/project/tx whose services, named by ids,
// run the dbclient statement of the same ID with one Row input and answer one
// Form.
func TransactionContract(app, project, tx string, ids ...string) string {
	services := make([]string, len(ids))
	for i, id := range ids {
		services[i] = fmt.Sprintf(`{"ServiceID": %q, "Authorize": false, "ReturnType": "Json", "CommandType": "D",
        "TransactionScope": false,
        "Inputs": [{"ModelID": "Dynamic", "Fields": [], "Type": "Row", "ParameterHandling": "Rejected"}],
        "Outputs": [{"ModelID": "Dynamic", "Fields": [], "Type": "Form"}]}`, id)
	}
	return fmt.Sprintf(`{
    "ApplicationID": %q, "ProjectID": %q, "TransactionID": %q,
    "Services": [
        %s
    ]
}`, app, project, tx, strings.Join(services, ",\n        "))
}
