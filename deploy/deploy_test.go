// Package deploy_test checks the deployment recipes under deploy/: that the
// Kubernetes manifests are valid API objects and wire ack the way its drain,
// probes and peers need; that the Dockerfile's build line produces a static
// binary; that the systemd units agree with what ack does.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
)

const kubeDir = "kubernetes"

// layouts are the sets of directories applied together: the canary is
// applied beside the monolith it shares a Service and ack.json with.
var layouts = map[string][]string{
	"monolith": {"monolith"},
	"split":    {"split"},
	"canary":   {"monolith", "canary"},
}

// stopAllowance is what ack needs after the grace period: the idle
// connection grace (0.5 s) and the modules' stop, which host.Run bounds at
// 5 s beyond drain delay + grace period.
const stopAllowance = 6 * time.Second

// knownModules are the module IDs ack's --modules accepts.
var knownModules = []module.ID{module.WWWRoot, module.Transact, module.DBClient, module.Function,
	module.Repository, module.Logger, module.Edge}

// strictDecoder decodes YAML into the typed API objects the way the API
// server's strict field validation does: unknown fields, duplicate fields
// and fields in the wrong case are errors.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, policyv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// decodeAll decodes every YAML document of data.
func decodeAll(dec runtime.Decoder, data []byte) ([]runtime.Object, error) {
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(stripYAMLComments(doc))) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		objs = append(objs, obj)
	}
}

// stripYAMLComments drops whole-line comments, to tell an empty document
// from one with content.
func stripYAMLComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

// cluster is what one layout puts into a namespace.
type cluster struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	pdbs        map[string]*policyv1.PodDisruptionBudget
}

func loadLayout(t *testing.T, dirs []string) *cluster {
	t.Helper()
	dec := strictDecoder(t)
	c := &cluster{
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		configMaps:  map[string]*corev1.ConfigMap{},
		pdbs:        map[string]*policyv1.PodDisruptionBudget{},
	}
	for _, dir := range dirs {
		files := manifestFiles(t, filepath.Join(kubeDir, dir))
		if len(files) == 0 {
			t.Fatalf("%s: no manifests", dir)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := decodeAll(dec, data)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for _, obj := range objs {
				c.add(t, file, obj)
			}
		}
	}
	return c
}

func (c *cluster) add(t *testing.T, file string, obj runtime.Object) {
	t.Helper()
	put := func(kind, name string, exists bool) {
		if name == "" {
			t.Fatalf("%s: a %s without a name", file, kind)
		}
		if exists {
			t.Fatalf("%s: a second %s named %s in the same layout", file, kind, name)
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		_, ok := c.deployments[o.Name]
		put("Deployment", o.Name, ok)
		c.deployments[o.Name] = o
	case *corev1.Service:
		_, ok := c.services[o.Name]
		put("Service", o.Name, ok)
		c.services[o.Name] = o
	case *corev1.ConfigMap:
		_, ok := c.configMaps[o.Name]
		put("ConfigMap", o.Name, ok)
		c.configMaps[o.Name] = o
	case *policyv1.PodDisruptionBudget:
		_, ok := c.pdbs[o.Name]
		put("PodDisruptionBudget", o.Name, ok)
		c.pdbs[o.Name] = o
	default:
		t.Fatalf("%s: %T is not a kind these tests check; add its checks", file, obj)
	}
}

func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestEveryManifestDirectoryBelongsToALayout(t *testing.T) {
	ents, err := os.ReadDir(kubeDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			t.Errorf("%s: manifests belong in a layout directory", filepath.Join(kubeDir, e.Name()))
			continue
		}
		found := false
		for _, dirs := range layouts {
			found = found || slices.Contains(dirs, e.Name())
		}
		if !found {
			t.Errorf("%s is in no layout of this test, so nothing checks it", e.Name())
		}
	}
}

// TestStrictDecodingRefusesMistakes proves that the decoder used for the
// manifests would catch the mistakes it is there for.
func TestStrictDecodingRefusesMistakes(t *testing.T) {
	dec := strictDecoder(t)
	const good = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  selector:\n    app: a\n"
	if _, err := decodeAll(dec, []byte(good)); err != nil {
		t.Fatalf("a valid Service: %v", err)
	}
	for name, doc := range map[string]string{
		"misspelled field": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  selecter:\n    app: a\n",
		"wrong case":       "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  Selector:\n    app: a\n",
		"duplicate field":  "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n",
		"unknown kind":     "apiVersion: v1\nkind: Servise\nmetadata:\n  name: a\n",
		"wrong type":       "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: two\n",
	} {
		if _, err := decodeAll(dec, []byte(good+"---\n"+doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestKubernetesLayouts(t *testing.T) {
	for name, dirs := range layouts {
		t.Run(name, func(t *testing.T) {
			c := loadLayout(t, dirs)
			if len(c.deployments) == 0 {
				t.Fatal("no Deployment")
			}
			procs := map[string]*process{}
			for _, d := range c.deployments {
				t.Run(d.Name, func(t *testing.T) { procs[d.Name] = checkDeployment(t, c, d) })
			}
			checkSelectors(t, c)
			checkPDBs(t, c)
			checkServices(t, c)
			for name, p := range procs {
				if p != nil {
					t.Run(name+"/peers", func(t *testing.T) { checkPeers(t, c, procs, p) })
					t.Run(name+"/edge", func(t *testing.T) { checkEdgeRoutes(t, c, p) })
				}
			}
		})
	}
}

// process is what one Deployment's ack container runs, as ack itself reads
// its settings.
type process struct {
	deployment *appsv1.Deployment
	container  *corev1.Container
	home       string
	settings   config.Settings
}

func (p *process) runs(id module.ID) bool { return slices.Contains(p.settings.Modules, string(id)) }

// newProcess finds the ack container of d and the settings it runs with.
func newProcess(t *testing.T, c *cluster, d *appsv1.Deployment) *process {
	t.Helper()
	spec := d.Spec.Template.Spec
	var ack *corev1.Container
	for i := range spec.Containers {
		if spec.Containers[i].Name == "ack" {
			ack = &spec.Containers[i]
		}
	}
	if ack == nil {
		t.Fatalf("Deployment %s: no container named ack", d.Name)
	}
	p := &process{deployment: d, container: ack, home: flagValue(ack.Args, "home")}
	if p.home == "" {
		p.home = envValue(ack, "ACK_HOME")
	}
	if !filepath.IsAbs(p.home) {
		t.Fatalf("Deployment %s: home %q: give --home=/absolute/path", d.Name, p.home)
	}
	p.settings = settingsOf(t, c, p)
	return p
}

func checkDeployment(t *testing.T, c *cluster, d *appsv1.Deployment) *process {
	spec := d.Spec.Template.Spec
	p := newProcess(t, c, d)
	ack := p.container
	if ack.Image == "" {
		t.Error("no image")
	}

	// Probes on the port ack listens on.
	port := containerPort(ack, intstr.FromString("http"))
	if port == 0 {
		t.Fatal("no container port named http")
	}
	if int(port) != p.settings.Port {
		t.Errorf("container port http is %d, ack listens on %d", port, p.settings.Port)
	}
	checkProbe(t, "readinessProbe", ack, ack.ReadinessProbe, "/readyz", port)
	checkProbe(t, "livenessProbe", ack, ack.LivenessProbe, "/livez", port)
	if ack.StartupProbe != nil {
		// A startup probe on /readyz would pass only once ready, which is
		// fine, but one that fails before StartTimeout kills a slow start.
		checkProbe(t, "startupProbe", ack, ack.StartupProbe, ack.StartupProbe.HTTPGet.Path, port)
		budget := time.Duration(ack.StartupProbe.PeriodSeconds*ack.StartupProbe.FailureThreshold) * time.Second
		if budget < p.settings.StartTimeout.D() {
			t.Errorf("startupProbe gives up after %v, before ack's startTimeout %v", budget, p.settings.StartTimeout.D())
		}
	}

	// Stopping: preStop sleep, then ack's own drain, all within the grace.
	preStop := preStopSleep(t, ack)
	for _, name := range []string{"ACK_DRAIN_DELAY", "ACK_GRACE_PERIOD"} {
		if envValue(ack, name) == "" {
			t.Errorf("%s is not set", name)
		}
	}
	drain, grace := p.settings.Shutdown.DrainDelay.D(), p.settings.Shutdown.GracePeriod.D()
	if drain <= 0 {
		t.Errorf("ACK_DRAIN_DELAY %v: give readiness watchers time to notice", drain)
	}
	need := preStop + drain + grace + stopAllowance
	if spec.TerminationGracePeriodSeconds == nil {
		t.Errorf("terminationGracePeriodSeconds not set (default 30 s), need %v", need)
	} else if got := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second; got < need {
		t.Errorf("terminationGracePeriodSeconds %v < preStop %v + drain %v + grace %v + stop %v", got, preStop, drain, grace, stopAllowance)
	}

	// Rolling updates never take a ready pod away first.
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("strategy %q, want RollingUpdate", d.Spec.Strategy.Type)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || !isZero(*ru.MaxUnavailable) {
		t.Error("rollingUpdate.maxUnavailable must be 0")
	} else if ru.MaxSurge != nil && isZero(*ru.MaxSurge) {
		t.Error("rollingUpdate.maxSurge 0 with maxUnavailable 0 cannot roll")
	}

	checkSecurity(t, spec, ack)
	checkResources(t, ack)
	checkVolumes(t, c, spec, ack, p)
	return p
}

// settingsOf reads the settings ack would run with: the ack.json mounted
// from a ConfigMap (decoded strictly, as ack does) and the container's
// literal environment.
func settingsOf(t *testing.T, c *cluster, p *process) config.Settings {
	t.Helper()
	ackJSON, _ := mountedFile(t, c, p, filepath.Join(p.home, "ack.json"))
	var environ []string
	for _, e := range p.container.Env {
		if e.ValueFrom == nil {
			environ = append(environ, e.Name+"="+e.Value)
		}
	}
	s := loadSettings(t, p.home, ackJSON, environ, p.container.Args)
	if len(s.Modules) == 0 {
		t.Fatal("no modules chosen: set ACK_MODULES or modules in ack.json, so that peers and routes can be checked against what runs")
	}
	for _, m := range s.Modules {
		if !slices.Contains(knownModules, module.ID(m)) {
			t.Errorf("module %q is not one of ack's", m)
		}
	}
	return s
}

// loadSettings runs ack's own config.Load for a process whose home is home
// (on another machine: a stand-in directory holds ackJSON), then applies the
// --port and --modules flags of args as the command line does.
func loadSettings(t *testing.T, home, ackJSON string, environ, args []string) config.Settings {
	t.Helper()
	standIn := t.TempDir()
	if ackJSON != "" {
		if err := os.WriteFile(filepath.Join(standIn, "ack.json"), []byte(ackJSON), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := config.Load(standIn, environ)
	if err != nil {
		t.Fatalf("ack would refuse these settings: %v", err)
	}
	rebase := func(p string) string {
		if rel, err := filepath.Rel(standIn, p); err == nil && p != "" && within(p, standIn) {
			return filepath.Join(home, rel)
		}
		return p
	}
	s.DataDir, s.PIDFile = rebase(s.DataDir), rebase(s.PIDFile)
	if v := flagValue(args, "port"); v != "" {
		if s.Port, err = strconv.Atoi(v); err != nil {
			t.Fatalf("--port=%s: %v", v, err)
		}
	}
	if v := flagValue(args, "modules"); v != "" {
		s.Modules = config.SplitList(v)
	}
	return s
}

// mountedFile returns the ConfigMap content mounted at path in the ack
// container, if any.
func mountedFile(t *testing.T, c *cluster, p *process, path string) (string, bool) {
	t.Helper()
	for _, m := range p.container.VolumeMounts {
		vol := volume(p.deployment, m.Name)
		if vol == nil || vol.ConfigMap == nil {
			continue
		}
		cm := c.configMaps[vol.ConfigMap.Name]
		if cm == nil {
			continue // reported by checkVolumes
		}
		key := ""
		switch {
		case m.SubPath != "" && m.MountPath == path:
			key = m.SubPath
		case m.SubPath == "" && filepath.Dir(path) == m.MountPath:
			key = filepath.Base(path)
		}
		if data, ok := cm.Data[key]; ok && key != "" {
			return data, true
		}
	}
	return "", false
}

func volume(d *appsv1.Deployment, name string) *corev1.Volume {
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return &d.Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

func checkProbe(t *testing.T, name string, c *corev1.Container, p *corev1.Probe, path string, port int32) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: want an httpGet probe on %s", name, path)
		return
	}
	if p.HTTPGet.Path != path {
		t.Errorf("%s: path %q, want %q", name, p.HTTPGet.Path, path)
	}
	if path != "/readyz" && path != "/livez" {
		t.Errorf("%s: path %q is neither /readyz nor /livez", name, path)
	}
	if got := containerPort(c, p.HTTPGet.Port); got != port {
		t.Errorf("%s: port %s is %d, ack listens on %d", name, p.HTTPGet.Port.String(), got, port)
	}
}

// containerPort resolves a port given by name or number; 0 when unknown.
func containerPort(c *corev1.Container, port intstr.IntOrString) int32 {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort
		}
	}
	return 0
}

func preStopSleep(t *testing.T, c *corev1.Container) time.Duration {
	t.Helper()
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		t.Error("no preStop hook: the pod may be stopped before every endpoint list has dropped it")
		return 0
	}
	h := c.Lifecycle.PreStop
	switch {
	case h.Sleep != nil && h.Sleep.Seconds > 0:
		return time.Duration(h.Sleep.Seconds) * time.Second
	case h.Exec != nil && len(h.Exec.Command) == 2 && filepath.Base(h.Exec.Command[0]) == "sleep":
		n, err := strconv.Atoi(h.Exec.Command[1])
		if err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	t.Error("preStop must sleep a few seconds")
	return 0
}

func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	return v.StrVal == "0" || v.StrVal == "0%"
}

func checkSecurity(t *testing.T, spec corev1.PodSpec, c *corev1.Container) {
	t.Helper()
	psc, csc := spec.SecurityContext, c.SecurityContext
	if csc == nil {
		t.Fatal("container has no securityContext")
	}
	nonRoot := (csc.RunAsNonRoot != nil && *csc.RunAsNonRoot) || (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	if !nonRoot {
		t.Error("runAsNonRoot is not true")
	}
	for _, uid := range []*int64{csc.RunAsUser, func() *int64 {
		if psc == nil {
			return nil
		}
		return psc.RunAsUser
	}()} {
		if uid != nil && *uid == 0 {
			t.Error("runAsUser 0")
		}
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation must be false")
	}
	if csc.Privileged != nil && *csc.Privileged {
		t.Error("privileged")
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem must be true")
	}
	if csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		t.Error("capabilities must drop ALL")
	}
	if csc.Capabilities != nil && len(csc.Capabilities.Add) > 0 {
		t.Errorf("capabilities added: %v", csc.Capabilities.Add)
	}
}

func checkResources(t *testing.T, c *corev1.Container) {
	t.Helper()
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
			t.Errorf("no %s request", r)
		}
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
		t.Error("no memory limit")
	}
}

// checkVolumes: every mount has its volume, ConfigMaps exist with the keys
// mounted, and ack's data directory is writable on a read-only root.
func checkVolumes(t *testing.T, c *cluster, spec corev1.PodSpec, ack *corev1.Container, p *process) {
	t.Helper()
	dataOK := false
	for _, m := range ack.VolumeMounts {
		vol := volume(p.deployment, m.Name)
		if vol == nil {
			t.Errorf("mount %s: no volume %s", m.MountPath, m.Name)
			continue
		}
		if vol.ConfigMap != nil {
			cm := c.configMaps[vol.ConfigMap.Name]
			switch {
			case cm == nil && (vol.ConfigMap.Optional == nil || !*vol.ConfigMap.Optional):
				t.Errorf("volume %s: no ConfigMap %s in this layout", vol.Name, vol.ConfigMap.Name)
			case cm != nil && m.SubPath != "":
				if _, ok := cm.Data[m.SubPath]; !ok {
					t.Errorf("mount %s: ConfigMap %s has no key %s", m.MountPath, cm.Name, m.SubPath)
				}
			}
		}
		writable := vol.EmptyDir != nil || vol.PersistentVolumeClaim != nil
		if writable && !m.ReadOnly && within(p.settings.DataDir, m.MountPath) {
			dataOK = true
		}
	}
	if !dataOK {
		t.Errorf("data directory %s is not on a writable emptyDir or claim (the root file system is read-only)", p.settings.DataDir)
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			t.Errorf("volume %s: Secrets are not part of these recipes; reference them from env with optional: true", v.Name)
		}
	}
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func envValue(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func selects(t *testing.T, sel *metav1.LabelSelector, d *appsv1.Deployment) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	return !s.Empty() && s.Matches(labels.Set(d.Spec.Template.Labels))
}

// checkSelectors: each Deployment owns its pods and no other's.
func checkSelectors(t *testing.T, c *cluster) {
	for _, a := range c.deployments {
		if !selects(t, a.Spec.Selector, a) {
			t.Errorf("Deployment %s: its selector does not match its own pod labels", a.Name)
		}
		for _, b := range c.deployments {
			if a != b && selects(t, a.Spec.Selector, b) {
				t.Errorf("Deployment %s's selector also matches the pods of %s", a.Name, b.Name)
			}
		}
	}
}

// checkPDBs: one budget per Deployment that still lets a node drain.
func checkPDBs(t *testing.T, c *cluster) {
	for _, d := range c.deployments {
		n := 0
		for _, pdb := range c.pdbs {
			if selects(t, pdb.Spec.Selector, d) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Deployment %s: %d PodDisruptionBudgets select its pods, want 1", d.Name, n)
		}
	}
	for _, pdb := range c.pdbs {
		var owners []*appsv1.Deployment
		for _, d := range c.deployments {
			if selects(t, pdb.Spec.Selector, d) {
				owners = append(owners, d)
			}
		}
		if len(owners) != 1 {
			t.Errorf("PodDisruptionBudget %s selects the pods of %d Deployments, want 1", pdb.Name, len(owners))
			continue
		}
		replicas := int32(1)
		if owners[0].Spec.Replicas != nil {
			replicas = *owners[0].Spec.Replicas
		}
		switch s := pdb.Spec; {
		case s.MaxUnavailable != nil:
			v, err := intstr.GetScaledValueFromIntOrPercent(s.MaxUnavailable, int(replicas), true)
			if err != nil || v < 1 {
				t.Errorf("PodDisruptionBudget %s: maxUnavailable %s allows no eviction", pdb.Name, s.MaxUnavailable.String())
			}
		case s.MinAvailable != nil:
			v, err := intstr.GetScaledValueFromIntOrPercent(s.MinAvailable, int(replicas), true)
			if err != nil || v >= int(replicas) {
				t.Errorf("PodDisruptionBudget %s: minAvailable %s of %d replicas blocks every node drain", pdb.Name, s.MinAvailable.String(), replicas)
			}
		default:
			t.Errorf("PodDisruptionBudget %s: neither maxUnavailable nor minAvailable", pdb.Name)
		}
	}
}

// serviceDeployments returns the Deployments whose pods svc selects.
func serviceDeployments(svc *corev1.Service, c *cluster) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for _, d := range c.deployments {
		if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, d)
		}
	}
	return out
}

// checkServices: every Service reaches pods on a port they open, and every
// Deployment is reached by a Service.
func checkServices(t *testing.T, c *cluster) {
	reached := map[string]bool{}
	for _, svc := range c.services {
		ds := serviceDeployments(svc, c)
		if len(ds) == 0 {
			t.Errorf("Service %s selects no Deployment's pods", svc.Name)
		}
		if len(svc.Spec.Ports) == 0 {
			t.Errorf("Service %s has no port", svc.Name)
		}
		for _, d := range ds {
			reached[d.Name] = true
			for _, sp := range svc.Spec.Ports {
				target := sp.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(sp.Port)
				}
				found := false
				for i := range d.Spec.Template.Spec.Containers {
					found = found || containerPort(&d.Spec.Template.Spec.Containers[i], target) != 0
				}
				if !found {
					t.Errorf("Service %s port %d: target %s is no port of Deployment %s", svc.Name, sp.Port, target.String(), d.Name)
				}
			}
		}
	}
	for name := range c.deployments {
		if !reached[name] {
			t.Errorf("Deployment %s: no Service selects its pods", name)
		}
	}
}

// serviceURL checks that raw is http(s)://<service>[.<namespace>...]:<port>
// naming a Service of the layout and one of its ports, and returns the
// Service.
func serviceURL(c *cluster, raw string) (*corev1.Service, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", raw)
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	svc := c.services[name]
	if svc == nil {
		return nil, fmt.Errorf("%s: no Service %s in this layout", raw, name)
	}
	port := map[string]int32{"http": 80, "https": 443}[u.Scheme]
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%s: port %q", raw, p)
		}
		port = int32(n)
	}
	for _, sp := range svc.Spec.Ports {
		if sp.Port == port {
			return svc, nil
		}
	}
	return nil, fmt.Errorf("%s: Service %s has no port %d", raw, name, port)
}

// checkPeers: every ACK_PEER_<MODULE> URL names a Service of the layout
// whose pods run that module.
func checkPeers(t *testing.T, c *cluster, procs map[string]*process, p *process) {
	for _, e := range p.container.Env {
		id, ok := strings.CutPrefix(e.Name, "ACK_PEER_")
		if !ok || id == "TIMEOUT" {
			continue
		}
		mod := module.ID(strings.ToLower(id))
		if !slices.Contains(knownModules, mod) {
			t.Errorf("%s: %q is not a module of ack", e.Name, mod)
		}
		if p.runs(mod) {
			t.Errorf("%s: this process runs %s itself; the peer would never be called", e.Name, mod)
		}
		urls := config.SplitList(e.Value)
		if len(urls) == 0 {
			t.Errorf("%s is empty", e.Name)
		}
		for _, raw := range urls {
			svc, err := serviceURL(c, raw)
			if err != nil {
				t.Errorf("%s: %v", e.Name, err)
				continue
			}
			for _, d := range serviceDeployments(svc, c) {
				if q := procs[d.Name]; q != nil && !q.runs(mod) {
					t.Errorf("%s=%s: Service %s reaches Deployment %s, which does not run %s", e.Name, raw, svc.Name, d.Name, mod)
				}
			}
		}
	}
}

// checkEdgeRoutes: an edge's routes (its contracts/edge ConfigMap) send
// traffic only to Services of the layout.
func checkEdgeRoutes(t *testing.T, c *cluster, p *process) {
	dir := filepath.Join(p.home, "contracts", "edge")
	var files []string
	for _, m := range p.container.VolumeMounts {
		vol := volume(p.deployment, m.Name)
		if vol == nil || vol.ConfigMap == nil || c.configMaps[vol.ConfigMap.Name] == nil {
			continue
		}
		if m.MountPath == dir || within(m.MountPath, dir) {
			cm := c.configMaps[vol.ConfigMap.Name]
			for key, data := range cm.Data {
				if strings.HasSuffix(key, ".json") {
					files = append(files, cm.Name+"/"+key)
					checkRoutesJSON(t, c, cm.Name+"/"+key, data)
				}
			}
		}
	}
	switch {
	case p.runs(module.Edge) && len(files) == 0:
		t.Errorf("runs the edge but mounts no routes under %s", dir)
	case !p.runs(module.Edge) && len(files) > 0:
		t.Errorf("mounts edge routes %v but does not run the edge", files)
	}
}

func checkRoutesJSON(t *testing.T, c *cluster, name, data string) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(config.StripJSONC([]byte(data)), &doc); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	var urls []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if strings.Contains(v, "://") {
				urls = append(urls, v)
			}
		}
	}
	walk(doc)
	if len(urls) == 0 {
		t.Errorf("%s: no upstream URL", name)
	}
	for _, u := range urls {
		if _, err := serviceURL(c, u); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCanarySharesTheStableService: the canary gets traffic because the
// stable Service also selects its pods.
func TestCanarySharesTheStableService(t *testing.T) {
	c := loadLayout(t, layouts["canary"])
	canary, stable := c.deployments["ack-canary"], c.deployments["ack"]
	if canary == nil || stable == nil {
		t.Fatal("want Deployments ack and ack-canary")
	}
	for _, svc := range c.services {
		ds := serviceDeployments(svc, c)
		if slices.Contains(ds, canary) && slices.Contains(ds, stable) {
			return
		}
	}
	t.Error("no Service selects both the stable and the canary pods")
}
