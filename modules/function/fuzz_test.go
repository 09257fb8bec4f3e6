package function

import (
	"encoding/json"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/wire"
)

func FuzzParseDirectory(f *testing.F) {
	f.Add(`{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"T","LanguageType":"javascript","Use":true},"Commands":[{"ID":"GF01","Seq":0,"Params":[{"id":"A","Value":1}]}]}`, `module.exports = { GF01: (cb) => cb(null, {}) };`)
	f.Add(`{"Header":{"Use":true,"LanguageType":"csharp"},"Commands":[{"ID":"GF01","Seq":-1}],}`, `class X {}`)
	f.Add(`{"Header":{"Use":true,"LanguageType":"javascript","Runtime":"node"},"Commands":[]} // c`, `}{`)
	kind := newKind(runtimeEmbedded)
	f.Fuzz(func(t *testing.T, meta, main string) {
		fsys := fstest.MapFS{
			"HDS/TST/T/featureMeta.json": {Data: []byte(meta)},
			"HDS/TST/T/featureMain.js":   {Data: []byte(main)},
			"HDS/TST/T/featureMain.cs":   {Data: []byte(main)},
		}
		cmds, err := kind.Parse(fsys, "HDS/TST/T/featureMeta.json")
		checkParse(t, cmds, err)
	})
}

func FuzzParseXML(f *testing.F) {
	f.Add(`<mapper><header><language>javascript</language></header><script><![CDATA[
module.exports = {};
]]></script><commands><command id="GF01" seq="0"><param id="A" value="NULL"/></command></commands></mapper>`)
	f.Add(`<mapper><header/></mapper>`)
	f.Add(`<a><b></a>`)
	kind := newKind(runtimeEmbedded)
	f.Fuzz(func(t *testing.T, doc string) {
		cmds, err := kind.Parse(fstest.MapFS{"HDS/TST/T.xml": {Data: []byte(doc)}}, "HDS/TST/T.xml")
		checkParse(t, cmds, err)
	})
}

func checkParse(t *testing.T, cmds []*Command, err error) {
	if err != nil {
		var pe *contract.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		return
	}
	for _, c := range cmds {
		if c.Key() == "" || c.Code == nil || c.ExportName == "" {
			t.Fatalf("incomplete command %+v", c)
		}
		if c.Code.Runtime == runtimeEmbedded && c.Code.Program == nil {
			t.Fatal("an embedded command without a program")
		}
	}
}

func FuzzParseTables(f *testing.F) {
	f.Add(`{"T":[{"A":1,"B":"x"},{"C":true}],"U":[]}`)
	f.Add(`{"T":{}}`)
	f.Add(`[1]`)
	f.Add(`{"T":[{"A":"2024-01-01T00:00:00Z"}]} x`)
	f.Fuzz(func(t *testing.T, text string) {
		tables, err := parseTables(text)
		if err != nil {
			return
		}
		var s shaper
		if err := s.add(&fakeObject, tables); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.result(); err != nil {
			t.Fatal(err)
		}
	})
}

// fakeObject asks for every shape in turn.
var fakeObject = wire.QueryObject{JSONObjects: []wire.JSONObjectType{wire.FormJSON, wire.GridJSON, wire.ChartJSON, wire.DataSetJSON, wire.AdditionJSON}}

// FuzzQueryArg decodes syn.$d.query's argument and compiles it for every
// provider: bad input is an error, never a panic.
func FuzzQueryArg(f *testing.F) {
	f.Add(`{"dataSourceID":"FN01","sql":"SELECT @A, :B","parameters":[{"ParameterName":"@A","Value":1},{"ParameterName":"B","Value":[1,"x",null]}]}`)
	f.Add(`{"sql":"SELECT @A","parameters":[{"ParameterName":"A","Value":{"x":1}},{"ParameterName":"C","Value":[[1]]}]}`)
	f.Add(`{"sql":"SELECT '@A' -- @A\n","parameters":[{"ParameterName":"A","Value":1e400}]}`)
	f.Fuzz(func(t *testing.T, arg string) {
		var a queryArg
		if json.Unmarshal([]byte(arg), &a) != nil {
			return
		}
		for _, p := range []dialect.Provider{dialect.SQLite, dialect.PostgreSQL, dialect.MySQL, dialect.SQLServer, dialect.Oracle} {
			_, _ = a.compile(p)
		}
	})
}
