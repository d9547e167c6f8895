package client

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// snapshotCache remembers cluster snapshots and image lists for the
// planning reads of one provider process. A Terraform plan asks several
// resources and data sources about the same cluster (a 100-cluster plan's
// images and active versions each read the cluster and list its images);
// with the cache each cluster and each image list is read once per
// operation. It is shared by a Client and all its copies, and any request
// other than a cluster or image read, through any copy, forgets what it
// may have changed (the named cluster's snapshot and images; everything
// for requests that name none), so a read after a change is always fresh.
type snapshotCache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry[*appliance.Cluster]
	images  map[string]*cacheEntry[[]api.Image]
	gen     map[string]uint64 // per cluster: bumped by every invalidation
	genAll  uint64
}

type cacheEntry[T any] struct {
	ready chan struct{}
	val   T
	err   error
}

func newSnapshotCache() *snapshotCache {
	return &snapshotCache{entries: map[string]*cacheEntry[*appliance.Cluster]{}, images: map[string]*cacheEntry[[]api.Image]{}, gen: map[string]uint64{}}
}

// Cached returns a copy of c whose GetCluster and ListImages answer from the
// process's snapshot cache: use it for plan-time reads. Waits that poll a cluster
// for a change (health, reboots) must use an uncached client, since
// nothing this process does tells the cache that a node came back.
func (c *Client) Cached() *Client {
	cp := *c
	cp.cacheReads = true
	return &cp
}

// Uncached returns a copy of c that always reads the cluster.
func (c *Client) Uncached() *Client {
	cp := *c
	cp.cacheReads = false
	return &cp
}

// cachedCluster reads a cluster through the cache: concurrent callers
// share one request, and a read that an invalidation overtook is not kept.
func (c *Client) cachedCluster(ctx context.Context, name string) (*appliance.Cluster, error) {
	return cachedRead(ctx, c.snapshots, c.snapshots.entries, name, c.fetchCluster, (*appliance.Cluster).Clone)
}

// cachedImages lists a cluster's images through the cache, as cachedCluster.
func (c *Client) cachedImages(ctx context.Context, name string) ([]api.Image, error) {
	return cachedRead(ctx, c.snapshots, c.snapshots.images, name, c.fetchImages, cloneImages)
}

// cachedRead answers a read of cluster name from entries, or makes it:
// concurrent callers share one request, a failed shared read is made again
// by each caller without the cache, and a read that an invalidation
// overtook is not kept. Every caller gets its own copy (clone).
func cachedRead[T any](ctx context.Context, sc *snapshotCache, entries map[string]*cacheEntry[T], name string,
	fetch func(context.Context, string) (T, error), clone func(T) T) (T, error) {
	var zero T
	sc.mu.Lock()
	if e, ok := entries[name]; ok {
		sc.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		if e.err == nil {
			return clone(e.val), nil
		}
		// The shared read failed: read again, without the cache.
		return fetch(ctx, name)
	}
	e := &cacheEntry[T]{ready: make(chan struct{})}
	entries[name] = e
	gen, genAll := sc.gen[name], sc.genAll
	sc.mu.Unlock()

	e.val, e.err = fetch(ctx, name)
	sc.mu.Lock()
	if e.err != nil || sc.gen[name] != gen || sc.genAll != genAll {
		if entries[name] == e {
			delete(entries, name)
		}
	}
	sc.mu.Unlock()
	close(e.ready)
	if e.err != nil {
		return zero, e.err
	}
	return clone(e.val), nil
}

// cloneImages copies an image list deeply enough that no reader can
// change another's (the manifests' slices included).
func cloneImages(in []api.Image) []api.Image {
	if in == nil {
		return nil
	}
	out := make([]api.Image, len(in))
	for i, img := range in {
		img.Manifest.SupportedFrom = slices.Clone(img.Manifest.SupportedFrom)
		img.Manifest.Components = slices.Clone(img.Manifest.Components)
		img.Manifest.IrreversibleFeatures = slices.Clone(img.Manifest.IrreversibleFeatures)
		out[i] = img
	}
	return out
}

// invalidate forgets what a request may have changed. GETs of clusters and
// images change nothing; any other request (a POST, a DELETE, a task poll
// that may see a task finish) forgets its cluster, or every cluster when
// its path names none.
func (sc *snapshotCache) invalidate(method, path string) {
	if sc == nil || method == http.MethodGet && strings.HasPrefix(path, "/v1/clusters") {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	rest, ok := strings.CutPrefix(path, "/v1/clusters/")
	if !ok {
		sc.genAll++
		clear(sc.entries)
		clear(sc.images)
		return
	}
	name, _, _ := strings.Cut(rest, "/")
	if unescaped, err := url.PathUnescape(name); err == nil {
		name = unescaped
	}
	sc.gen[name]++
	delete(sc.entries, name)
	delete(sc.images, name)
}
