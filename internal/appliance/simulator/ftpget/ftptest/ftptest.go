// Package ftptest is a minimal FTP server for tests of downloads by ftp://
// URLs (S1): passive mode, one file, any login.
package ftptest

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// Serve serves one file over a minimal passive-mode FTP server on a
// loopback port until the test ends, and returns its address. It accepts
// any user and password.
func Serve(t testing.TB, path string, content []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() }) // stops the accept loop; nothing to check
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer func() { _ = c.Close() }() // the session is over either way
				w := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
				w("220 fake ftp")
				buf := make([]byte, 1024)
				var data net.Listener
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					line := strings.TrimSpace(string(buf[:n]))
					switch {
					case strings.HasPrefix(line, "USER"):
						w("331 password please")
					case strings.HasPrefix(line, "PASS"):
						w("230 logged in")
					case strings.HasPrefix(line, "TYPE"):
						w("200 binary")
					case strings.HasPrefix(line, "PASV"):
						data, err = net.Listen("tcp", "127.0.0.1:0")
						if err != nil {
							t.Errorf("fake ftp: data listener: %v", err)
							w("425 cannot open a data connection")
							continue
						}
						addr, ok := data.Addr().(*net.TCPAddr)
						if !ok {
							t.Errorf("fake ftp: data listener address %v is not TCP", data.Addr())
							w("425 cannot open a data connection")
							continue
						}
						p := addr.Port
						w(fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d)", p>>8, p&255))
					case strings.HasPrefix(line, "RETR"):
						if strings.TrimSpace(strings.TrimPrefix(line, "RETR")) != path {
							w("550 no such file")
							continue
						}
						w("150 opening")
						dc, err := data.Accept()
						if err != nil {
							return
						}
						// The test checks the bytes the simulator got; a failed
						// write or close of the data connection explains why.
						if _, err := dc.Write(content); err != nil {
							t.Errorf("fake ftp: sending %s: %v", path, err)
						}
						if err := dc.Close(); err != nil {
							t.Errorf("fake ftp: closing the data connection: %v", err)
						}
						_ = data.Close() // one transfer per PASV: the listener is done
						w("226 done")
					case strings.HasPrefix(line, "QUIT"):
						w("221 bye")
						return
					default:
						w("502 not implemented")
					}
				}
			}(c)
		}
	}()
	return ln.Addr().String()
}
