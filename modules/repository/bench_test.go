package repository

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// patternReader yields n bytes without holding them, so that the client side
// of the benchmark does not allocate the file either.
type patternReader struct{ n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(b)), p.n)
	for i := range b[:k] {
		b[i] = byte('a' + i%26)
	}
	p.n -= k
	return int(k), nil
}

// BenchmarkUploadDownload uploads a 16 MiB file as a raw body to a
// FileSystem repository over real HTTP and downloads it again. B/op shows
// that neither direction holds the file in memory.
func BenchmarkUploadDownload(b *testing.B) {
	const size = 16 << 20
	e := startEnv(b, nil, nil)
	client := &http.Client{}
	b.SetBytes(2 * size)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", e.h.URL+"/repository/api/storage/upload-file?applicationID=APP&repositoryID=BIG&dependencyID=B",
			&patternReader{n: size})
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("X-File-Name", "big.bin")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var res fileUploadResult
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || !res.Result {
			b.Fatalf("upload: %v %+v", err, res)
		}
		resp.Body.Close()
		resp, err = client.Get(e.h.URL + "/repository/api/storage/http-download-file?applicationID=APP&repositoryID=BIG&itemID=" + res.ItemID)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != size {
			b.Fatalf("downloaded %d bytes", n)
		}
		resp, _ = client.Get(e.h.URL + "/repository/api/storage/remove-item?applicationID=APP&repositoryID=BIG&itemID=" + res.ItemID)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
