// Package ftpget fetches an ftp:// URL: the client side of the simulated
// cluster downloading an image from an FTP server (S1).
package ftpget

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Retrieve fetches an ftp:// URL in passive binary mode: just enough
// FTP (RFC 959) for S1, with no dependency. Anonymous unless the URL
// carries a user.
func Retrieve(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "21")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("ftp %s: %w", redact(u), err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = conn.Close() // abandoned after a failed step: that step's error is the one to report
		}
	}()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	fail := func(step string, err error) error { return fmt.Errorf("ftp %s: %s: %v", redact(u), step, err) }
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, fail("greeting", err)
	}
	user, pass := "anonymous", "anonymous@"
	if u.User != nil {
		user = u.User.Username()
		if p, set := u.User.Password(); set {
			pass = p
		}
	}
	code, _, err := cmd(tp, 0, "USER %s", user)
	if err != nil {
		return nil, fail("USER", err)
	}
	if code == 331 {
		if _, _, err := cmd(tp, 230, "PASS %s", pass); err != nil {
			return nil, fail("PASS", fmt.Errorf("login refused"))
		}
	} else if code != 230 {
		return nil, fail("USER", fmt.Errorf("unexpected reply %d", code))
	}
	if _, _, err := cmd(tp, 200, "TYPE I"); err != nil {
		return nil, fail("TYPE I", err)
	}
	_, msg, err := cmd(tp, 227, "PASV")
	if err != nil {
		return nil, fail("PASV", err)
	}
	port, err := pasvPort(msg)
	if err != nil {
		return nil, fail("PASV", err)
	}
	data, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), strconv.Itoa(port)))
	if err != nil {
		return nil, fail("data connection", err)
	}
	path := strings.TrimPrefix(u.Path, "/")
	if err := tp.PrintfLine("RETR %s", path); err != nil {
		_ = data.Close() // nothing read yet: the RETR error is the one to report
		return nil, fail("RETR", err)
	}
	if _, _, err := tp.ReadResponse(1); err != nil { // 125 or 150
		_ = data.Close() // nothing read yet: the RETR error is the one to report
		return nil, fail("RETR", err)
	}
	_ = conn.SetDeadline(time.Time{})
	ok = true
	body := &ftpBody{data: data, ctrl: tp, conn: conn}
	// Closing the simulator (or the task's context) aborts the transfer; the
	// reader then fails, which reports the abort, so the errors of Close add
	// nothing.
	body.stop = context.AfterFunc(ctx, func() { _ = data.Close(); _ = conn.Close() })
	return body, nil
}

// cmd sends a command and reads the reply; expect 0 accepts any code.
func cmd(tp *textproto.Conn, expect int, format string, args ...any) (int, string, error) {
	if err := tp.PrintfLine(format, args...); err != nil {
		return 0, "", err
	}
	return tp.ReadResponse(expect)
}

// pasvPort reads the port of "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)".
// The host part is ignored: the server's address is used, which is safer.
func pasvPort(msg string) (int, error) {
	i, j := strings.Index(msg, "("), strings.Index(msg, ")")
	if i < 0 || j < i {
		return 0, fmt.Errorf("cannot read %q", msg)
	}
	parts := strings.Split(msg[i+1:j], ",")
	if len(parts) != 6 {
		return 0, fmt.Errorf("cannot read %q", msg)
	}
	p1, err1 := strconv.Atoi(strings.TrimSpace(parts[4]))
	p2, err2 := strconv.Atoi(strings.TrimSpace(parts[5]))
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cannot read %q", msg)
	}
	return p1<<8 | p2, nil
}

// ftpBody is the data connection; closing it reads the transfer's verdict.
type ftpBody struct {
	data net.Conn
	ctrl *textproto.Conn
	conn net.Conn
	stop func() bool
	done bool
	err  error
}

func (b *ftpBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	n, err := b.data.Read(p)
	if err == io.EOF {
		// The transfer is complete only if the server says so (226).
		b.done, b.err = true, io.EOF
		_ = b.conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, _, rerr := b.ctrl.ReadResponse(2); rerr != nil {
			b.err = fmt.Errorf("ftp transfer incomplete: %v", rerr)
		}
		return n, b.err
	}
	return n, err
}

func (b *ftpBody) Close() error {
	b.stop()
	// The data connection is only read, and the transfer's verdict (226) was
	// taken by Read: an error closing it cannot lose anything.
	_ = b.data.Close()
	_ = b.ctrl.PrintfLine("QUIT")
	return b.conn.Close()
}

// redact drops credentials from a URL, for messages.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
