package examples_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ack-dev/ack/internal/acktest"
)

const chromium = "/usr/bin/chromium"

// startBoard runs the real ack binary on a copy of examples/board.
func startBoard(t *testing.T) *acktest.Process {
	t.Helper()
	home := filepath.Join(t.TempDir(), "board")
	if err := os.CopyFS(home, os.DirFS(filepath.Join(acktest.RepoRoot(t), "examples", "board"))); err != nil {
		t.Fatal(err)
	}
	// A developer's local run leaves a database behind; start fresh.
	if err := os.RemoveAll(filepath.Join(home, "data")); err != nil {
		t.Fatal(err)
	}
	return acktest.StartProcess(t, acktest.ProcessOptions{Home: home})
}

// transaction sends the request the board's js/ack.js sends and returns the
// outputs of an acknowledged answer.
func transaction(t *testing.T, p *acktest.Process, screen, service string, input map[string]any, outputs string) []json.RawMessage {
	t.Helper()
	row := []map[string]any{}
	for k, v := range input {
		row = append(row, map[string]any{"id": k, "value": v})
	}
	req := map[string]any{
		"accessToken": "", "action": "SYN", "kind": "BIZ", "clientTag": "ACK|test", "requestID": "T" + service,
		"version": "001", "environment": "D",
		"loadOptions": map[string]string{"encryptionType": "P", "encryptionKey": "G", "platform": "test", "programID": ""},
		"system": map[string]any{"programID": "EXA", "moduleID": "view", "version": "1.0.0",
			"routes":   []map[string]any{{"systemID": "HANDSTACK", "requestTick": time.Now().UnixMilli()}},
			"localeID": "en-US", "hostName": "test", "pathName": "/view/EXA/BOD/" + screen + ".html", "deviceID": ""},
		"interface": map[string]any{"devicePlatform": "browser", "interfaceID": "WEB", "sourceIP": "", "sourcePort": 0,
			"sourceMAC": "", "connectionType": "", "timeout": 180000},
		"transaction": map[string]any{"globalID": "T" + service, "businessID": "BOD", "transactionID": "BOD010",
			"functionID": service, "commandType": "D", "simulationType": "P", "terminalGroupID": "", "operatorID": "",
			"screenID": screen, "startTraceID": "", "dataFormat": "J", "compressionYN": "N"},
		"payLoad": map[string]any{"property": map[string]any{}, "dataMapInterface": "Row|" + outputs,
			"dataMapCount": []int{1}, "dataMapSet": [][]map[string]any{row}, "dataMapSetRaw": []string{}},
	}
	resp := p.Post(t, "/transact/api/transaction/execute", req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", service, resp.StatusCode)
	}
	var answer struct {
		Acknowledge   int    `json:"acknowledge"`
		ExceptionText string `json:"exceptionText"`
		Result        struct {
			DataSet []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"dataSet"`
		} `json:"result"`
	}
	acktest.ReadJSON(t, resp, &answer)
	if answer.Acknowledge != 1 {
		t.Fatalf("%s: acknowledge %d: %s", service, answer.Acknowledge, answer.ExceptionText)
	}
	var out []json.RawMessage
	for _, item := range answer.Result.DataSet {
		out = append(out, item.Value)
	}
	return out
}

type post struct {
	PostID    int64
	Category  string
	Title     string
	Content   string
	Author    string
	CreatedAt string
	UpdatedAt *string
}

func decode[T any](t *testing.T, raw []json.RawMessage, i int) T {
	t.Helper()
	var v T
	if i >= len(raw) {
		t.Fatalf("want output %d, got %d outputs", i, len(raw))
	}
	if err := json.Unmarshal(raw[i], &v); err != nil {
		t.Fatalf("output %d %s: %v", i, raw[i], err)
	}
	return v
}

func titles(posts []post) []string {
	var out []string
	for _, p := range posts {
		out = append(out, p.Title)
	}
	return out
}

// TestBoardTransactions runs every service of the board's contracts over
// HTTP, as the screens call them.
func TestBoardTransactions(t *testing.T) {
	p := startBoard(t)
	transaction(t, p, "BOD010", "ZD01", nil, "")
	transaction(t, p, "BOD010", "ZD01", nil, "") // idempotent: seeds only an empty table

	list := func(category, keyword string) []post {
		return decode[[]post](t, transaction(t, p, "BOD010", "LD01", map[string]any{"Category": category, "Keyword": keyword}, "Grid"), 0)
	}
	if got := list("", ""); len(got) != 3 {
		t.Fatalf("seeded posts: %v", titles(got))
	}
	if got := titles(list("", "reload")); len(got) != 1 || got[0] != "Edit a contract, reload the page" {
		t.Fatalf("keyword search: %v", got)
	}
	if got := titles(list("Question", "")); len(got) != 1 || got[0] != "Where is my data?" {
		t.Fatalf("category search: %v", got)
	}

	added := decode[post](t, transaction(t, p, "BOD011", "ID01", map[string]any{
		"Category": "Free", "Title": "From the test", "Content": "it's <b>quoted</b> 'safely'", "Author": "tester",
	}, "Form"), 0)
	if added.PostID <= 0 {
		t.Fatalf("ID01 returned PostID %d", added.PostID)
	}
	got := decode[post](t, transaction(t, p, "BOD011", "GD01", map[string]any{"PostID": added.PostID}, "Form"), 0)
	if got.Title != "From the test" || got.Content != "it's <b>quoted</b> 'safely'" || got.Author != "tester" || got.CreatedAt == "" || got.UpdatedAt != nil {
		t.Fatalf("GD01: %+v", got)
	}

	changed := decode[post](t, transaction(t, p, "BOD011", "UD01", map[string]any{
		"PostID": added.PostID, "Category": "Guide", "Title": "Changed", "Content": "new", "Author": "tester",
	}, "Form"), 0)
	if changed.PostID != added.PostID || changed.UpdatedAt == nil {
		t.Fatalf("UD01: %+v", changed)
	}
	if got := titles(list("Guide", "Changed")); len(got) != 1 || got[0] != "Changed" {
		t.Fatalf("after UD01: %v", got)
	}

	deleted := decode[post](t, transaction(t, p, "BOD011", "DD01", map[string]any{"PostID": added.PostID}, "Form"), 0)
	if deleted.PostID != added.PostID {
		t.Fatalf("DD01: %+v", deleted)
	}
	if got := list("", ""); len(got) != 3 {
		t.Fatalf("after DD01: %v", titles(got))
	}
	// A second delete finds nothing: the Form output is empty.
	if gone := decode[post](t, transaction(t, p, "BOD011", "DD01", map[string]any{"PostID": added.PostID}, "Form"), 0); gone.PostID != 0 {
		t.Fatalf("second DD01: %+v", gone)
	}
}

// TestBoardInBrowser drives the screens in headless Chromium: search, then
// write a post through BOD011 and find it in the list.
func TestBoardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		acktest.Require(t, "Debian's chromium at "+chromium+" (apt-get install -y chromium)")
	}
	p := startBoard(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser; it must not carry a step's timeout.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	// step runs actions with a deadline and, on failure, reports what the
	// page shows.
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			diag, cancelDiag := context.WithTimeout(browser, 5*time.Second)
			defer cancelDiag()
			state, _ := chromedp.Run(diag, chromedp.Evaluate[string](`document.body ? document.body.dataset.state : ''`))
			text, _ := chromedp.Run(diag, chromedp.Evaluate[string](`[...document.querySelectorAll('.status')].map(e => e.textContent).join(' ')`))
			t.Fatalf("%s: %v (page state %q, status %q)", name, err, state, text)
		}
	}
	rowsJS := `[...document.querySelectorAll('#posts tbody td.title')].map(td => td.textContent)`
	waitRows := func(cond string) chromedp.Action[chromedp.Void] {
		return waitFor(`location.pathname.endsWith('/BOD010.html') && document.body.dataset.state === 'ready' && (() => { const rows = ` + rowsJS + `; return ` + cond + `; })()`)
	}
	rows := func() []string {
		t.Helper()
		v, err := chromedp.Run(browser, chromedp.Evaluate[[]string](rowsJS))
		if err != nil {
			t.Fatalf("read rows: %v", err)
		}
		return v
	}

	step("open the list from the home page",
		chromedp.Navigate(p.URL+"/"),
		chromedp.Click(chromedp.ID("open-list")),
		waitRows("rows.length === 3"),
	)
	if got, want := rows(), []string{"Where is my data?", "Edit a contract, reload the page", "Welcome to the ack board"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("first list: %q, want %q", got, want)
	}
	screenshot(browser, t, "list")

	step("search by keyword",
		setField("keyword", "reload"),
		chromedp.Click(chromedp.ID("search")),
		waitRows("rows.length === 1"),
	)
	if got := rows(); len(got) != 1 || got[0] != "Edit a contract, reload the page" {
		t.Fatalf("keyword search: %q", got)
	}
	step("search by category",
		setField("keyword", ""),
		setField("category", "Question"),
		chromedp.Click(chromedp.ID("search")),
		waitRows("rows.length === 1 && rows[0] === 'Where is my data?'"),
	)

	const title = "Written in Chromium"
	step("write a post",
		chromedp.Click(chromedp.ID("new-post")),
		waitFor(`location.pathname.endsWith('/BOD011.html') && document.body.dataset.state === 'ready'`),
		setField("post-category", "Free"),
		chromedp.SendKeys(chromedp.ID("author"), "chromedp"),
		chromedp.SendKeys(chromedp.ID("title"), title),
		chromedp.SendKeys(chromedp.ID("content"), "Typed by the browser test."),
	)
	if display, err := chromedp.Run(browser, chromedp.Evaluate[string](`getComputedStyle(document.getElementById('delete')).display`)); err != nil || display != "none" {
		t.Fatalf("a new post offers Delete (display %q, %v)", display, err)
	}
	screenshot(browser, t, "edit")
	step("save it and find it in the list",
		chromedp.Click(chromedp.ID("save")),
		waitFor(`location.pathname.endsWith('/BOD010.html') && location.search.startsWith('?saved=')`),
		waitRows(fmt.Sprintf("rows.length === 4 && rows[0] === %q", title)),
	)
	if got, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("#posts tbody tr.highlight td.title"))); err != nil || got != title {
		t.Fatalf("highlighted row %q (%v), want %q", got, err, title)
	}
	screenshot(browser, t, "saved")

	step("open it",
		chromedp.Click(chromedp.CSS("#posts tbody tr.highlight td.title a")),
		waitFor(`location.search.startsWith('?id=') && document.body.dataset.state === 'ready'`),
	)
	heading, err := chromedp.Run(browser, chromedp.Text(chromedp.ID("heading")))
	if err != nil {
		t.Fatal(err)
	}
	content, err := chromedp.Run(browser, chromedp.Value(chromedp.ID("content")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(heading, "Post #") || content != "Typed by the browser test." {
		t.Fatalf("post screen: heading %q content %q", heading, content)
	}
	screenshot(browser, t, "post")
}

// waitFor polls a JavaScript condition until it is true or the context ends.
// Unlike chromedp.Poll it survives the page navigating away meanwhile: an
// evaluation that fails because the old page is gone is simply retried.
func waitFor(condition string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		check := chromedp.Evaluate[bool](`!!(` + condition + `)`)
		var last error
		for {
			ok, err := check(ctx, target)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			last = err
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w (last evaluation error: %v)", condition, ctx.Err(), last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// setField sets the value of the form control with this id, as a user's edit
// would (input and change events). chromedp.SetValue cannot set "".
func setField(id, value string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		js := fmt.Sprintf(`(() => {
			const el = document.getElementById(%q);
			el.value = %q;
			el.dispatchEvent(new Event('input', {bubbles: true}));
			el.dispatchEvent(new Event('change', {bubbles: true}));
			return el.value;
		})()`, id, value)
		got, err := chromedp.Evaluate[string](js)(ctx, target)
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("set #%s: %w", id, err)
		}
		if got != value {
			return chromedp.Void{}, fmt.Errorf("set #%s to %q: it holds %q", id, value, got)
		}
		return chromedp.Void{}, nil
	}
}

// screenshot saves the page as <name>.png in ACK_SCREENSHOT_DIR, when set,
// to look at the screens during development.
func screenshot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("ACK_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
