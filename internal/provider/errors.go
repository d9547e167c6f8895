package provider

import (
	"errors"
	"fmt"
	"net/url"

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
