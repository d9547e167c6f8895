package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// describeAPIError turns an API error into a sentence an operator can act on.
func describeAPIError(err error) string {
	if code := driver.CodeOf(err); code != "" {
		hint := ""
		switch code {
		case driver.CodeCorruptImage:
			hint = " (S6): the bundle is damaged or not a bundle; download it again and compare its sha256 with the vendor's"
		case driver.CodeVersionNotNewer:
			hint = " (S7): an update must be newer than the running version; going back needs a rollback to the alternate partition or a re-image"
		case driver.CodeUnsupportedPath:
			hint = " (S8): update to an intermediate version first"
		case driver.CodeLeaseHeld:
			hint = ": another rollout holds the cluster's lease; wait for it to finish, or for the lease to expire if its holder crashed"
		case driver.CodeLeaseLost:
			hint = ": this apply lost the cluster's lease (it stalled past the lease's expiry, or another apply took the cluster over) and stopped before changing anything more; the state says what each node runs, and applying again continues from there"
		case driver.CodeUnauthorized:
			hint = ": check the provider's token"
		case driver.CodeDiskFull:
			hint = ": free space on the cluster, e.g. by deleting images that no node runs or holds in its alternate partition (the provider never deletes those)"
		}
		return err.Error() + hint
	}
	return err.Error()
}

func clusterErrorDetail(cluster string, err error) string {
	if driver.IsNotFound(err) {
		return fmt.Sprintf("the endpoint manages no cluster named %q; the appliance_cluster data source lists what it reports", cluster)
	}
	return describeAPIError(err)
}

func describeBundleError(file string, err error) string {
	var ce *bundle.CorruptError
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s: %v (S6). Nothing was changed on the cluster. Download the bundle again and compare its sha256 with the vendor's.", file, err)
	}
	return fmt.Sprintf("%s: %v", file, err)
}

// redactURL drops credentials from a URL before it reaches a log or a key.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	return u.String()
}

// planTimeoutError is the cause of a plan-time request cut off by the
// provider's plan_timeout.
type planTimeoutError struct{ limit time.Duration }

func (e planTimeoutError) Error() string {
	return fmt.Sprintf("plan_timeout (%s) ran out", e.limit)
}

// planTimeoutNote explains an error of a plan-time request that
// plan_timeout cut off, and is empty for any other.
func planTimeoutNote(ctx context.Context) string {
	var pe planTimeoutError
	if !errors.As(context.Cause(ctx), &pe) {
		return ""
	}
	return fmt.Sprintf(". The provider's plan_timeout (%s) ran out before the endpoint answered: it bounds the requests of one plan or refresh of a resource or data source, retries included. "+
		"Check that the endpoint is reachable, or raise plan_timeout", pe.limit)
}
