package contract_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/contract"
)

// statement is one SQL statement of a HandStack-like dbclient mapper file,
// the most common contract kind: a realistic small XML parse per file.
type statement struct {
	Key    string
	SQL    string
	Params []string
}

type mapperXML struct {
	Header struct {
		Application string `xml:"application"`
		Project     string `xml:"project"`
		Transaction string `xml:"transaction"`
		DataSource  string `xml:"datasource"`
	} `xml:"header"`
	Statements []struct {
		ID     string `xml:"id,attr"`
		SQL    string `xml:",chardata"`
		Params []struct {
			ID string `xml:"id,attr"`
		} `xml:"param"`
	} `xml:"commands>statement"`
}

func mapperKind() contract.Kind[statement] {
	return contract.Kind[statement]{
		Name:   "bench.xml",
		Module: "bench",
		Match:  func(rel string) bool { return path.Ext(rel) == ".xml" },
		Parse: func(fsys fs.FS, unit string) ([]statement, error) {
			data, err := fs.ReadFile(fsys, unit)
			if err != nil {
				return nil, err
			}
			var m mapperXML
			if err := xml.Unmarshal(data, &m); err != nil {
				return nil, &contract.ParseError{Path: unit, Err: err}
			}
			out := make([]statement, 0, len(m.Statements))
			for _, st := range m.Statements {
				s := statement{Key: strings.Join([]string{m.Header.Application, m.Header.Project, m.Header.Transaction, st.ID}, "|"), SQL: strings.TrimSpace(st.SQL)}
				for _, p := range st.Params {
					s.Params = append(s.Params, p.ID)
				}
				out = append(out, s)
			}
			return out, nil
		},
		Key: func(s statement) string { return s.Key },
	}
}

const mapperTemplate = `<?xml version="1.0" encoding="utf-8"?>
<mapper xmlns="contract.xsd">
	<header>
		<application>HDS</application>
		<project>%[1]s</project>
		<transaction>%[2]s</transaction>
		<datasource>DB01</datasource>
		<use>Y</use>
		<desc>benchmark contract %[2]s</desc>
	</header>
	<commands>
		<statement id="GD01" seq="0" use="Y" timeout="0" desc="list">
			<![CDATA[
SELECT BoardID, Title, Contents, CreatedMemberID, CreatedAt
FROM Board
WHERE ApplicationID = @ApplicationID AND Title LIKE '%%' || @Title || '%%'
ORDER BY CreatedAt DESC
			]]>
			<param id="@ApplicationID" type="String" length="36" value="" />
			<param id="@Title" type="String" length="-1" value="" />
		</statement>
		<statement id="ID01" seq="0" use="Y" timeout="0" desc="insert">
			<![CDATA[
INSERT INTO Board (BoardID, ApplicationID, Title, Contents, CreatedAt)
VALUES (@BoardID, @ApplicationID, @Title, @Contents, CURRENT_TIMESTAMP)
			]]>
			<param id="@BoardID" type="String" length="36" value="" />
			<param id="@ApplicationID" type="String" length="36" value="" />
			<param id="@Title" type="String" length="200" value="" />
			<param id="@Contents" type="String" length="-1" value="" />
		</statement>
	</commands>
</mapper>
`

// mapperFiles writes n mapper files, 100 per directory, and returns the root.
func mapperFiles(b *testing.B, n int) string {
	b.Helper()
	root := b.TempDir()
	for i := range n {
		project := fmt.Sprintf("P%03d", i/100)
		tx := fmt.Sprintf("TST%05d", i)
		acktest.WriteFile(b, filepath.Join(root, "HDS", project, tx+".xml"), fmt.Sprintf(mapperTemplate, project, tx))
	}
	return root
}

// BenchmarkInitialLoad10k is the first load of 10,000 contract files
// (target ≤ 1s per op): "xml" parses each as a dbclient-like mapper, "store"
// parses nothing, which leaves the store's own cost (walk, read, hash,
// publish).
func BenchmarkInitialLoad10k(b *testing.B) {
	root := mapperFiles(b, 10_000)
	storeOnly := mapperKind()
	storeOnly.Parse = func(_ fs.FS, unit string) ([]statement, error) {
		return []statement{{Key: unit + "|1"}, {Key: unit + "|2"}}, nil
	}
	for _, k := range []struct {
		name string
		kind contract.Kind[statement]
	}{{"xml", mapperKind()}, {"store", storeOnly}} {
		b.Run(k.name, func(b *testing.B) {
			cpu := acktest.ProcessCPU()
			for b.Loop() {
				s := contract.NewStore(k.kind, []string{root}, contract.Options{})
				if _, err := s.Reload(context.Background()); err != nil {
					b.Fatal(err)
				}
				if n := s.Load().Len(); n != 20_000 {
					b.Fatalf("%d entries, want 20000", n)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// reportCPU adds the process CPU time per op since start (cpu-ms/op).
func reportCPU(b *testing.B, start time.Duration) {
	if used := acktest.ProcessCPU() - start; used > 0 {
		b.ReportMetric(float64(used.Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkRefreshOneOf10k is the work of one incremental reload (one file
// changed, 10,000 loaded): the cost behind the debounce.
func BenchmarkRefreshOneOf10k(b *testing.B) {
	root := mapperFiles(b, 10_000)
	s := contract.NewStore(mapperKind(), []string{root}, contract.Options{})
	if _, err := s.Reload(context.Background()); err != nil {
		b.Fatal(err)
	}
	rel := "HDS/P042/TST04200.xml"
	i := 0
	cpu := acktest.ProcessCPU()
	defer reportCPU(b, cpu)
	for b.Loop() {
		i++
		tx := fmt.Sprintf("TST04200V%d", i)
		if err := os.WriteFile(filepath.Join(root, rel), fmt.Appendf(nil, mapperTemplate, "P042", tx), 0o644); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Refresh(context.Background(), rel); err != nil {
			b.Fatal(err)
		}
		if _, ok := s.Load().Get("HDS|P042|" + tx + "|GD01"); !ok {
			b.Fatal("the change is not visible")
		}
	}
}

// BenchmarkWatchLatency10k is the time from writing one new contract file to
// its entries being visible in Load, with Run watching 10,000 files and the
// default debounce (target ≤ 100ms per op).
func BenchmarkWatchLatency10k(b *testing.B) {
	root := mapperFiles(b, 10_000)
	s := contract.NewStore(mapperKind(), []string{root}, contract.Options{Watch: true, Resync: time.Hour})
	if _, err := s.Reload(context.Background()); err != nil {
		b.Fatal(err)
	}
	swapped := make(chan struct{}, 1)
	s.OnSwap(func(_, _ *contract.Set[statement]) {
		select {
		case swapped <- struct{}{}:
		default:
		}
	})
	loaded := s.Status().LastReload
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	for !s.Status().LastReload.After(loaded) { // Run's first resync
		time.Sleep(time.Millisecond)
	}

	i := 0
	for b.Loop() {
		i++
		tx := fmt.Sprintf("NEW%05d", i)
		key := "HDS|P042|" + tx + "|GD01"
		acktest.WriteFile(b, filepath.Join(root, "HDS/P042", tx+".xml"), fmt.Sprintf(mapperTemplate, "P042", tx))
		for {
			select {
			case <-swapped:
			case <-time.After(10 * time.Second):
				b.Fatal("the new file was not loaded within 10s")
			}
			if _, ok := s.Load().Get(key); ok {
				break
			}
		}
	}
}
