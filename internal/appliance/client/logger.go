package client

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// scrubbingLogger passes retryablehttp's log lines on with the token
// removed. retryablehttp logs only methods, URLs and errors, none of which
// should hold the token; this makes sure of it whatever a server or a
// transport error echoes.
type scrubbingLogger struct {
	next   retryablehttp.LeveledLogger
	secret string
}

func (l *scrubbingLogger) Error(msg string, kv ...any) { l.next.Error(l.clean(msg), l.cleanKV(kv)...) }
func (l *scrubbingLogger) Warn(msg string, kv ...any)  { l.next.Warn(l.clean(msg), l.cleanKV(kv)...) }
func (l *scrubbingLogger) Info(msg string, kv ...any)  { l.next.Info(l.clean(msg), l.cleanKV(kv)...) }
func (l *scrubbingLogger) Debug(msg string, kv ...any) { l.next.Debug(l.clean(msg), l.cleanKV(kv)...) }

func (l *scrubbingLogger) clean(s string) string { return redact(s, l.secret) }

// cleanKV replaces any value whose printed form holds the token by its
// scrubbed text, and leaves the others as they are.
func (l *scrubbingLogger) cleanKV(kv []any) []any {
	if l.secret == "" {
		return kv
	}
	out := make([]any, len(kv))
	for i, v := range kv {
		if s := fmt.Sprint(v); strings.Contains(s, l.secret) {
			out[i] = redact(s, l.secret)
		} else {
			out[i] = v
		}
	}
	return out
}
