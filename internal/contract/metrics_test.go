package contract_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/contract"
)

// gather returns every sample of the registry as name{labels} → value.
func gather(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName() + "{"
			for i, l := range m.GetLabel() {
				if i > 0 {
					name += ","
				}
				name += l.GetName() + "=" + l.GetValue()
			}
			name += "}"
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestRegistryMetrics(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a.kv")
	acktest.WriteFile(t, a, "a=1\nb=2")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reg := contract.NewRegistry(contract.Options{})
	if err := reg.Register(s); err != nil {
		t.Fatal(err)
	}
	prom := prometheus.NewPedanticRegistry()
	if err := prom.Register(reg.Collector()); err != nil {
		t.Fatal(err)
	}

	const last = "ack_contract_last_success_timestamp_seconds{kind=test.kv}"
	check := func(step string, ok, fail, gen, entries, errs float64) map[string]float64 {
		t.Helper()
		got := gather(t, prom)
		want := map[string]float64{
			"ack_contract_reloads_total{kind=test.kv,result=success}": ok,
			"ack_contract_reloads_total{kind=test.kv,result=failure}": fail,
			"ack_contract_generation{kind=test.kv}":                   gen,
			"ack_contract_entries{kind=test.kv}":                      entries,
			"ack_contract_load_errors{kind=test.kv}":                  errs,
			last:                                                      got[last],
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%s:\n got %v\nwant %v", step, got, want)
		}
		return got
	}

	if check("before the first load", 0, 0, 0, 0, 0)[last] != 0 {
		t.Fatal("a last success before any load")
	}
	before := float64(time.Now().Unix())
	reload(t, s)
	first := check("after the first load", 1, 0, 1, 2, 0)[last]
	if first < before {
		t.Fatalf("last success %v, before %v", first, before)
	}

	reload(t, s)
	check("after a reload that found nothing", 1, 0, 1, 2, 0)

	acktest.WriteFile(t, a, "a=1\nbroken")
	reload(t, s)
	if got := check("after a broken save", 1, 1, 1, 2, 1)[last]; got != first {
		t.Fatalf("a failed reload moved the last success time: %v → %v", first, got)
	}
	reload(t, s) // reads the broken file again: same bytes, nothing new
	check("after reloading the unchanged broken file", 1, 1, 1, 2, 1)

	acktest.WriteFile(t, filepath.Join(root, "c.kv"), "c=3")
	if _, err := s.Refresh(context.Background(), "c.kv"); err != nil {
		t.Fatal(err)
	}
	// Another file loading fine is a success, though a.kv still fails.
	check("after an unrelated good change", 2, 1, 2, 3, 1)

	acktest.WriteFile(t, a, "a=1\nb=2")
	reload(t, s)
	check("after the fix", 3, 1, 3, 3, 0)
}

func TestRegistryMetricsPerKind(t *testing.T) {
	reg := contract.NewRegistry(contract.Options{})
	for _, name := range []string{"one", "two"} {
		k := kvKind()
		k.Name = name
		s := contract.NewStore(k, []string{t.TempDir()}, contract.Options{})
		if err := reg.Register(s); err != nil {
			t.Fatal(err)
		}
		reload(t, s)
	}
	prom := prometheus.NewPedanticRegistry()
	prom.MustRegister(reg.Collector())
	got := gather(t, prom)
	for _, name := range []string{"one", "two"} {
		key := fmt.Sprintf("ack_contract_generation{kind=%s}", name)
		if got[key] != 1 {
			t.Fatalf("%s = %v in %v", key, got[key], got)
		}
	}
}
