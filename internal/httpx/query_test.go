package httpx

import (
	"net/http/httptest"
	"testing"
)

func TestQuery(t *testing.T) {
	tests := []struct{ target, key, want string }{
		{"/?applicationID=HDS", "applicationID", "HDS"},
		{"/?ApplicationId=HDS", "applicationID", "HDS"},
		{"/?applicationid=+HDS+", "ApplicationID", "HDS"},
		{"/?a=1&a=2", "a", "1"},
		{"/?a=", "a", ""},
		{"/?b=1", "a", ""},
		{"/", "a", ""},
		{"/?filePath=HDS%2FTST%2FA.xml", "FILEPATH", "HDS/TST/A.xml"},
	}
	for _, tc := range tests {
		if got := Query(httptest.NewRequest("GET", tc.target, nil), tc.key); got != tc.want {
			t.Errorf("Query(%q, %q) = %q, want %q", tc.target, tc.key, got, tc.want)
		}
	}
}
