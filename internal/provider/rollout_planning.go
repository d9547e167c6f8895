package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// computePlan finds the target image and asks the planner. It returns a nil
// plan (and no error) when the image is not known yet.
func (d *providerData) computePlan(ctx context.Context, snap *appliance.Cluster, version string, imageIDAttr types.String, strategy *strategyModel) (*rollout.Plan, diag.Diagnostics) {
	return d.planWith(ctx, snap, version, imageIDAttr, strategy, planOptions{})
}

// planOptions adapt planning for a cluster rolled as part of a supercluster.
type planOptions struct {
	// inSupercluster: the supercluster resource orders the clusters and
	// answers for S23 itself.
	inSupercluster bool
	// maintenanceWindow: the service is down anyway (S25), so every node
	// may go at once, roles still in order.
	maintenanceWindow bool
}

func (d *providerData) planWith(ctx context.Context, snap *appliance.Cluster, version string, imageIDAttr types.String, strategy *strategyModel, opts planOptions) (*rollout.Plan, diag.Diagnostics) {
	var diags diag.Diagnostics
	target, imageID, known, err := d.findTarget(ctx, snap, version, imageIDAttr)
	if err != nil {
		diags.AddAttributeError(path.Root("image_id"), "Cannot find the image to activate", err.Error())
		return nil, diags
	}
	if target == nil {
		if !imageIDAttr.IsUnknown() && !imageIDAttr.IsNull() {
			diags.AddAttributeError(path.Root("image_id"), "Image not found", fmt.Sprintf("cluster %s has no image %s", snap.Name, imageIDAttr.ValueString()))
			return nil, diags
		}
		if imageIDAttr.IsUnknown() {
			return nil, diags
		}
		diags.AddAttributeError(path.Root("version"), "No image for this version",
			fmt.Sprintf("cluster %s has no image of version %s and no node holds it in its alternate partition. Declare an appliance_software_image for it and set image_id = appliance_software_image.<name>.id.", snap.Name, version))
		return nil, diags
	}
	if !opts.inSupercluster {
		if err := d.checkSupercluster(ctx, snap, target.Version); err != nil {
			diags.AddAttributeError(path.Root("version"), "Version incompatible with the supercluster", err.Error())
			return nil, diags
		}
	}
	policy, pdiags := strategy.policy()
	diags.Append(pdiags...)
	if diags.HasError() {
		return nil, diags
	}
	if opts.maintenanceWindow {
		policy = rollout.WindowPolicy(policy)
	}
	p, err := rollout.Compute(rollout.Request{Cluster: d.withPlannedLicenses(d.unstagedInThisOperation(rollout.AssumeInFlight(snap, target.Version), target)), Target: target, TargetImageID: imageID, Known: known, Policy: policy})
	if err != nil {
		var ve *rollout.ValidationError
		if errors.As(err, &ve) {
			diags.AddAttributeError(path.Root("version"), "Rollout refused", ve.Error())
		} else {
			diags.AddAttributeError(path.Root("version"), "Cannot plan the rollout", err.Error())
		}
		return nil, diags
	}
	return p, diags
}

// unstagedInThisOperation returns the snapshot as it was before the
// appliance_software_images of this Terraform operation staged the target:
// the plan shown at `terraform plan` lists those stage steps, and the plan
// Terraform computes again at apply, after the image has staged them, must
// be the same. Nodes staged before the operation are left as they are, so
// the plan lists only work that this apply does.
func (d *providerData) unstagedInThisOperation(snap *appliance.Cluster, target *appliance.Manifest) *appliance.Cluster {
	nodes := d.stagedInThisOperation(snap.Name, target.Version)
	if len(nodes) == 0 {
		return snap
	}
	out := snap.Clone()
	for i := range out.Nodes {
		n := &out.Nodes[i]
		if nodes[n.Name] && appliance.SameVersion(n.Alternate.Version, target.Version) {
			n.Alternate = appliance.Partition{}
		}
	}
	return out
}

// findTarget returns the manifest of the image to activate, its ID, and the
// other images the cluster knows (for upgrade-path hints).
func (d *providerData) findTarget(ctx context.Context, snap *appliance.Cluster, version string, imageID types.String) (*appliance.Manifest, string, []appliance.Manifest, error) {
	images, err := d.driver.Images(ctx, snap.Name)
	if err != nil {
		return nil, "", nil, fmt.Errorf("listing the images of cluster %s: %s", snap.Name, describeAPIError(err)+planTimeoutNote(ctx))
	}
	var known []appliance.Manifest
	var target *appliance.Manifest
	var targetID string
	for i := range images {
		img := &images[i]
		known = append(known, img.Manifest)
		switch {
		case !imageID.IsNull() && !imageID.IsUnknown():
			if img.ID == imageID.ValueString() {
				target, targetID = &img.Manifest, img.ID
			}
		case appliance.SameVersion(img.Manifest.Version, version) && target == nil:
			target, targetID = &img.Manifest, img.ID
		}
	}
	if target != nil && !appliance.SameVersion(target.Version, version) {
		return nil, "", nil, fmt.Errorf("image %s installs version %s, not %s: set version to %s or pick another image", targetID, target.Version, version, target.Version)
	}
	if target == nil && imageID.IsUnknown() {
		if m, ok := d.plannedImage(snap.Name, version); ok {
			target = &m
		}
	}
	if target == nil {
		target = rollout.RollbackManifest(snap, version)
	}
	return target, targetID, known, nil
}

// checkSupercluster refuses, at plan time, a version that the other clusters
// of the cluster's supercluster could not work with (S23): patch releases are
// compatible, major and minor releases are not.
func (d *providerData) checkSupercluster(ctx context.Context, snap *appliance.Cluster, version string) error {
	if snap.Supercluster == "" {
		return nil
	}
	clusters, err := d.driver.Clusters(ctx)
	if err != nil {
		return fmt.Errorf("listing the clusters of supercluster %s: %s", snap.Supercluster, describeAPIError(err)+planTimeoutNote(ctx))
	}
	return rollout.CheckSuperclusterCompatible(snap, clusters, version)
}
