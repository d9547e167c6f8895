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

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
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

// backoff honours Retry-After on 429 and 503, up to retryAfterMax, and
// otherwise waits an exponentially growing, jittered time, so that many
// clients retrying the same appliance do not retry in step.
func backoff(minWait, maxWait, retryAfterMax time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := askedRetryAfter(resp); ok {
		return min(d, retryAfterMax)
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

// askedRetryAfter is the wait a 429 or 503 answer asks for, if it asks.
func askedRetryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	return retryAfter(resp.Header.Get("Retry-After"))
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

// retryAfterError is a 429 or 503 whose Retry-After the client did not
// honour in full: it asked for longer than retry_after_max, or for longer
// than the request had left before its deadline. It says so, so that the
// operator knows why the provider gave up while the server said "later",
// and keeps the API's error for callers that match on its code.
type retryAfterError struct {
	asked    time.Duration // what the server's Retry-After asked for
	cap      time.Duration // retry_after_max
	attempts int
	// untilDeadline is set when the wait would have passed the request's
	// deadline: the client stopped at once instead of sleeping into it.
	untilDeadline time.Duration
	pastDeadline  bool
	err           *api.Error
}

func (e *retryAfterError) Error() string {
	asked := "the cluster asked to retry after " + seconds(e.asked)
	if e.pastDeadline {
		return fmt.Sprintf("%s; %s, but the operation's deadline is %s away; gave up after %d attempts instead of waiting past it",
			e.err, asked, seconds(e.untilDeadline), e.attempts)
	}
	return fmt.Sprintf("%s; %s; waited at most %s between attempts (the provider's retry_after_max); gave up after %d attempts",
		e.err, asked, seconds(e.cap), e.attempts)
}

// Unwrap gives the API's error and, when the deadline stopped the
// retries, context.DeadlineExceeded: the operation ran out of time.
func (e *retryAfterError) Unwrap() []error {
	if e.pastDeadline {
		return []error{e.err, context.DeadlineExceeded}
	}
	return []error{e.err}
}

// seconds writes d in seconds, as Retry-After does: 3600s, 0.05s.
func seconds(d time.Duration) string {
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// retryPolicy is the retryablehttp hooks of one request: checkRetry and
// backoff with the client's bounds, and what to do when retrying stops.
type retryPolicy struct {
	retryAfterMax time.Duration
}

// check is checkRetry, except that it stops at once when the wait the
// server asks for (capped) would pass the context's deadline: sleeping
// into the deadline would only end in a bare "context deadline exceeded".
func (p *retryPolicy) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, cerr := checkRetry(ctx, resp, err)
	if !retry || cerr != nil {
		return retry, cerr
	}
	asked, ok := askedRetryAfter(resp)
	if !ok {
		return true, nil
	}
	if deadline, has := ctx.Deadline(); has {
		if left := time.Until(deadline); min(asked, p.retryAfterMax) >= left {
			return false, &retryAfterError{asked: asked, cap: p.retryAfterMax, untilDeadline: left, pastDeadline: true}
		}
	}
	return true, nil
}

// giveUp replaces retryablehttp's "giving up" handling: when the retries
// run out on an HTTP answer, the caller gets that answer, so that the API's
// error body (code, message) reaches the user instead of a bare
// "unexpected HTTP status". When the server asked for a longer wait than
// the client gave it, the caller gets an error saying so instead.
func (p *retryPolicy) giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if resp != nil {
		asked, ok := askedRetryAfter(resp)
		var stop *retryAfterError
		if !errors.As(err, &stop) && ok && asked > p.retryAfterMax && attempts > 1 {
			stop = &retryAfterError{asked: asked, cap: p.retryAfterMax}
		}
		if stop == nil {
			return resp, nil
		}
		defer func() { _ = resp.Body.Close() }()
		stop.attempts = attempts
		stop.err = decodeError(resp)
		return nil, stop
	}
	if attempts > 1 {
		return nil, fmt.Errorf("giving up after %d attempts: %w", attempts, err)
	}
	return nil, err
}
