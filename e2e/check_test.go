package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
)

// `ack check` on a real home: clean, then with a broken SQL contract that it
// must point at by file and line, without serving anything.
func TestCheckCommand(t *testing.T) {
	home, sqlPath, _ := newHome(t)
	run := func() (int, string) {
		out, err := exec.Command(acktest.Binary(t), "check", "--home="+home).Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	if code, out := run(); code != 0 || !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("clean home: exit %d\n%s", code, out)
	}
	acktest.WriteFile(t, sqlPath, `<?xml version="1.0" encoding="UTF-8"?>
<mapper xmlns="contract.xsd">
    <header><application>E2E</application><project>TST</project><transaction>TST010</transaction><use>Y</use></header>
    <commands>
        <statement id="GD01" seq="0">
            <if test="Name ==== 'x'">SELECT 1</if>
        </statement>
    </commands>
</mapper>
`)
	code, out := run()
	if code == 0 || !strings.Contains(out, sqlPath+":6:") || !strings.Contains(out, "1 error(s)") {
		t.Fatalf("broken contract: exit %d\n%s\nwant %s:6: ...", code, out, sqlPath)
	}
}
