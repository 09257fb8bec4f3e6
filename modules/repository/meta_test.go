package repository

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// metaStores returns the stores to test: SQLite always, PostgreSQL when
// ACK_TEST_PG_DSN names one (required when ACK_REQUIRE_ALL=1).
func metaStores(t *testing.T) map[string]*metaStore {
	t.Helper()
	stores := map[string]*metaStore{}
	sq, err := openMeta(t.Context(), "sqlite", filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	stores["sqlite"] = sq
	if dsn := os.Getenv("ACK_TEST_PG_DSN"); dsn != "" {
		pg, err := openMeta(t.Context(), "postgres", dsn)
		if err != nil {
			t.Fatalf("PostgreSQL at ACK_TEST_PG_DSN: %v", err)
		}
		t.Cleanup(func() { pg.Close() })
		stores["postgres"] = pg
	} else if os.Getenv("ACK_REQUIRE_ALL") == "1" {
		t.Fatal("ACK_REQUIRE_ALL=1 but ACK_TEST_PG_DSN is not set")
	} else {
		t.Log("PostgreSQL skipped: ACK_TEST_PG_DSN is not set (scripts/start-databases.sh)")
	}
	return stores
}

// testApp returns an application ID unique to this test run, so that runs
// sharing a PostgreSQL database do not see each other's rows.
func testApp(t *testing.T) string {
	return "T" + newItemID(time.Now())[:20]
}

func TestMetaStore(t *testing.T) {
	for name, m := range metaStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			app := testApp(t)
			item := func(id, dep string) Item {
				return Item{ApplicationID: app, RepositoryID: "R", ItemID: id, DependencyID: dep, BusinessID: "0",
					FileName: id + ".txt", StorageKey: "2026/" + id, Extension: ".txt", MimeType: "text/plain",
					Size: 3, MD5: "ABC", SHA256: "def", SortingNo: 1, CreatedAt: time.Now()}
			}
			if _, err := m.AddItems(ctx, []Item{item("a", "D1"), item("b", "D1")}, false, 3); err != nil {
				t.Fatal(err)
			}
			if _, err := m.AddItems(ctx, []Item{item("c", "D1"), item("d", "D1")}, false, 3); !errors.Is(err, errUploadCount) {
				t.Fatalf("over the limit: err = %v", err)
			}
			if n, _ := m.Count(ctx, app, "R", "D1"); n != 2 {
				t.Fatalf("a refused batch wrote rows: count = %d", n)
			}
			got, ok, err := m.Get(ctx, app, "R", "a")
			if err != nil || !ok || got.StorageKey != "2026/a" || got.Size != 3 || got.CreatedAt.IsZero() {
				t.Fatalf("Get = %+v %v %v", got, ok, err)
			}
			replaced, err := m.AddItems(ctx, []Item{item("s", "D1")}, true, 0)
			if err != nil || len(replaced) != 2 {
				t.Fatalf("replace: %v, replaced %d", err, len(replaced))
			}
			if items, _ := m.List(ctx, app, "R", "D1"); len(items) != 1 || items[0].ItemID != "s" {
				t.Fatalf("after replace: %+v", items)
			}
			if n, err := m.MoveDependency(ctx, app, "R", "D1", "D2"); err != nil || n != 1 {
				t.Fatalf("move: %d %v", n, err)
			}
			if ok, err := m.Rename(ctx, app, "R", "s", "new.txt", ".txt"); err != nil || !ok {
				t.Fatalf("rename: %v %v", ok, err)
			}
			if got, _, _ := m.Get(ctx, app, "R", "s"); got.FileName != "new.txt" || got.DependencyID != "D2" {
				t.Fatalf("after move and rename: %+v", got)
			}
			if _, ok, _ := m.Delete(ctx, app, "R", "s"); !ok {
				t.Fatal("delete found nothing")
			}
			if _, ok, _ := m.Delete(ctx, app, "R", "s"); ok {
				t.Fatal("deleted twice")
			}
			_, _ = m.AddItems(ctx, []Item{item("k", "D3")}, false, 0)
			if removed, err := m.DeleteByKey(ctx, app, "R", "2026/k"); err != nil || len(removed) != 1 {
				t.Fatalf("delete by key: %v %d", err, len(removed))
			}
			if err := m.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
