package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// replayKey marks, in a request's context, a request that the server can
// recognise when it comes again, so repeating it cannot act twice.
type replayKey struct{}

func withReplayable(ctx context.Context, replayable bool) context.Context {
	return context.WithValue(ctx, replayKey{}, replayable)
}

func isReplayable(ctx context.Context) bool {
	r, _ := ctx.Value(replayKey{}).(bool)
	return r
}

// checkRetry is the retry policy:
//   - 429 and 503: always; the server declined without acting.
//   - 500, 502, 504 and broken connections: only for replayable requests,
//     because the server (or the node behind a gateway) may have acted
//     before failing, and a POST without an Idempotency-Key would act twice.
//   - a connection that could not be made: always; nothing was sent.
//   - any other status: never.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	replayable := isReplayable(ctx)
	if err != nil {
		if notSent(err) {
			return true, nil
		}
		if !replayable {
			return false, err
		}
		// The default policy knows which transport errors are permanent
		// (bad certificate, bad scheme, too many redirects).
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true, nil
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return replayable, nil
	}
	return false, nil
}

// notSent reports an error that happened before the request left: a
// refused or unresolvable connection.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsTemporary
}

// backoff honours Retry-After on 429 and 503 and otherwise waits an
// exponentially growing, jittered time, so that many clients retrying the
// same appliance do not retry in step.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return d
		}
	}
	ceiling := minWait << min(attempt, 30)
	if ceiling <= 0 || ceiling > maxWait {
		ceiling = maxWait
	}
	if ceiling <= minWait {
		return minWait
	}
	return minWait + rand.N(ceiling-minWait)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// keepLastResponse replaces retryablehttp's "giving up" handling: when the
// retries run out on an HTTP answer, the caller gets that answer, so that the
// API's error body (code, message) reaches the user instead of a bare
// "unexpected HTTP status".
func keepLastResponse(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	if attempts > 1 {
		return nil, fmt.Errorf("giving up after %d attempts: %w", attempts, err)
	}
	return nil, err
}
