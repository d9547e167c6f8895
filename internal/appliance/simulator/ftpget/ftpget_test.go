package ftpget

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/ftpget/ftptest"
)

func TestRetrieveFetchesTheFile(t *testing.T) {
	want := strings.Repeat("bundle bytes ", 10000)
	addr := ftptest.Serve(t, "pub/1.1.tar", []byte(want))
	for _, raw := range []string{"ftp://" + addr + "/pub/1.1.tar", "ftp://ops:s3cr3t@" + addr + "/pub/1.1.tar"} {
		u, _ := url.Parse(raw)
		body, err := Retrieve(context.Background(), u)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got, err := io.ReadAll(body)
		if err != nil || string(got) != want {
			t.Errorf("%s: read %d bytes, %v", raw, len(got), err)
		}
		if err := body.Close(); err != nil {
			t.Errorf("%s: close: %v", raw, err)
		}
	}
}

func TestAMissingFileIsAnErrorWithoutTheCredentials(t *testing.T) {
	addr := ftptest.Serve(t, "pub/1.1.tar", []byte("x"))
	u, _ := url.Parse("ftp://ops:s3cr3t@" + addr + "/pub/nope.tar")
	_, err := Retrieve(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "RETR") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("Retrieve of a missing file = %v", err)
	}
}

func TestANonFTPServerIsAnError(t *testing.T) {
	u, _ := url.Parse("ftp://127.0.0.1:1/x.tar")
	if _, err := Retrieve(context.Background(), u); err == nil {
		t.Fatal("Retrieve from a closed port succeeded")
	}
}
